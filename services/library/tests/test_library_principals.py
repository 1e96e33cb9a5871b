"""The audit principal of a human decision: the authenticated caller and whom it acted for."""

from __future__ import annotations

from rushes_library.principals import acting_principal


def test_authenticated_caller_and_named_person() -> None:
    assert acting_principal("admin", "ana") == "admin/ana"
    assert acting_principal("ana", "ana") == "ana"
    assert acting_principal("", "ana") == "ana"  # authentication off: only the name is known
    assert acting_principal("reviewer", "") == "reviewer"
