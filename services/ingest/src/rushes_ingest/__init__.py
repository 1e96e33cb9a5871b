"""Ingest service: accepts camera files, probes them, derives proxy/poster/audio and announces the asset."""
