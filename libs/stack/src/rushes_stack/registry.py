"""The services the local stack can run: the one place to add a new service.

name -> python module (run as `python -m <module>`), the settings field clients use to reach it
(exported as RUSHES_<FIELD>), and the pipeline stage it performs (None: it performs none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    address_setting: str
    stage: str | None
    needs_triton: bool = False
    # Settings the local stack gives this service because its Triton runs the models on the CPU.
    local_env: tuple[tuple[str, str], ...] = ()

    @property
    def address_env(self) -> str:
        return f"RUSHES_{self.address_setting.upper()}"


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("ingest", "rushes_ingest", "ingest_address", "ingest"),
        ServiceSpec("library", "rushes_library", "library_address", None),
        ServiceSpec("tagging", "rushes_tagging", "tagging_address", "tagging", needs_triton=True),
        ServiceSpec("asr", "rushes_asr", "asr_address", "asr", needs_triton=True),
        ServiceSpec("picks", "rushes_picks", "picks_address", "picks"),
        ServiceSpec(
            "enhance",
            "rushes_enhance",
            "enhance_address",
            "enhance",
            needs_triton=True,
            # The learned upscaler is a GPU model (~3 s per 320x240 frame on these CPUs): locally,
            # renditions take the classical path and say so in their reasons.
            local_env=(("RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS", "16"),),
        ),
        ServiceSpec("grading", "rushes_grading", "grading_address", None),
        ServiceSpec("qc", "rushes_qc", "qc_address", "qc", needs_triton=True),
    )
}


class UnknownService(ValueError):
    """A service name that is not in the registry."""


def resolve_services(names: Iterable[str] | None) -> list[ServiceSpec]:
    """Specs for `names` in registry order (None: every service); unknown names raise UnknownService."""
    if names is None:
        return list(SERVICES.values())
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in SERVICES]
    if unknown:
        raise UnknownService(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return [spec for name, spec in SERVICES.items() if name in wanted]


def pipeline_stages(names: Sequence[str]) -> list[str]:
    """The stages performed by the services `names`, in registry (= pipeline) order."""
    return [spec.stage for spec in resolve_services(names) if spec.stage is not None]
