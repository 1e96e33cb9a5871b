"""The rushes command line."""
