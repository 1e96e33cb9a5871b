"""A stand-in service for stack tests: serves only grpc.health.v1, configured like a real service.

Run as `python -m rushes_fake_health_service` with RUSHES_GRPC__ADDRESS and RUSHES_SERVICE_NAME set;
reports SERVING for "" and for its service name, exits on SIGTERM. It also writes the RUSHES_*
environment it received to `env.json` in its working directory so tests can inspect it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def main() -> None:
    address = os.environ["RUSHES_GRPC__ADDRESS"]
    name = os.environ["RUSHES_SERVICE_NAME"]
    with open("env.json", "w") as out:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("RUSHES_")}, out)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(address)
    server.start()
    for service in ("", name):
        servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=0.5).wait()


if __name__ == "__main__":
    main()
