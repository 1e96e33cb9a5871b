"""Picks service: scored takes, near-duplicate groups, script alignment and the first cut."""
