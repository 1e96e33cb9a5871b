"""Who a human decision is recorded as, in the audit trail's principal column."""

from __future__ import annotations


def acting_principal(authenticated: str, named: str) -> str:
    """The authenticated caller, and the person it acted for when they differ: "admin/ana" is the
    admin token used by (or for) reviewer ana. With authentication off only the named person is
    known; a token's principal cannot be forged, the name given in the request can."""
    if authenticated and named and authenticated != named:
        return f"{authenticated}/{named}"
    return authenticated or named
