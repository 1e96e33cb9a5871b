"""Triton gRPC client wrapper with deadlines and per-model readiness."""
