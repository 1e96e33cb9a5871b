"""Probing and decoding untrusted media through PyAV, with limits; proxy, poster and audio derivation."""
