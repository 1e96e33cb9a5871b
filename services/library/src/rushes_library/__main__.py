"""`python -m rushes_library`: the catalog service.

Reads RUSHES_* settings (see rushes_config), applies migrations, serves LibraryService on
RUSHES_GRPC__ADDRESS, metrics on RUSHES_METRICS_ADDRESS:RUSHES_METRICS_PORT, and consumes every
rushes.v1.> event until SIGTERM/SIGINT, then drains and exits 0. An invalid configuration exits 78
with one line on stderr; a dependency that cannot be reached at start exits 1.
"""

from __future__ import annotations

from rushes_grpc import service_main

from rushes_library.service import NAME, run_library


def main() -> None:
    service_main(run_library, service_name=NAME)


if __name__ == "__main__":
    main()
