"""Prometheus metrics shared by every service and the /metrics endpoint."""
