"""A live per-asset stage display on a terminal; silent elsewhere (scripts read --json)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

_MARKS = {"complete": "[green]done[/]", "failed": "[red]failed[/]", "running": "[yellow]running[/]"}


class WaitDisplay:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.rows: dict[str, dict[str, Any]] = {}
        self._live: Live | None = None

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("file")
        table.add_column("asset")
        table.add_column("status")
        table.add_column("stages")
        for name, record in self.rows.items():
            stages = record.get("stages", {})
            cells = " ".join(
                f"{stage}:{_MARKS.get(s.get('status', ''), s.get('status', 'pending'))}"
                for stage, s in stages.items()
            )
            table.add_row(name, record.get("asset_id", "")[:12], record.get("status", ""), cells)
        return table

    def update(self, name: str, record: dict[str, Any]) -> None:
        self.rows[name] = record
        if self._live is not None:
            self._live.update(self._table())

    def __enter__(self) -> WaitDisplay:
        if self.enabled:
            self._live = Live(
                self._table(), console=Console(stderr=True), refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
