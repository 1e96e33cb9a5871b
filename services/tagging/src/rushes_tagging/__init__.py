"""Tagging service: shot boundaries, shot types, categories and image-quality readings per asset."""
