"""Numbered SQL migrations of the catalog, applied by rushes_library.migrate."""
