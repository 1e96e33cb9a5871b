"""The local stack: starts, supervises and stops nats-server, SeaweedFS, Triton, Postgres and the services."""
