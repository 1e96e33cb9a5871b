"""Enhance service: stabilized, denoised and upscaled renditions stored next to the original."""
