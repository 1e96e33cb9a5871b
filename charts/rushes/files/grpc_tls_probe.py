"""Kubelet's gRPC probe cannot speak TLS: with security.grpcTls on, the pods' probes run this instead.

Run as `python -c <this file> PORT SERVER_NAME` inside the service container: it asks the standard
grpc.health.v1 service on 127.0.0.1:PORT over TLS, verifying the server's certificate against
RUSHES_GRPC_CLIENT_CA_FILE under SERVER_NAME (the service's DNS name, which the certificate names),
and presents the pod's own certificate when the server requires client certificates. Exit 0 only
on SERVING, so a draining server (NOT_SERVING) leaves the endpoints before it stops. Standard library
and grpcio only: it is passed as source text, nothing is installed for it.
"""

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def _read(variable: str) -> bytes:
    with open(os.environ[variable], "rb") as pem:
        return pem.read()


def main(port: str, server_name: str) -> int:
    mutual = bool(os.environ.get("RUSHES_GRPC__TLS_CLIENT_CA_FILE"))
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read("RUSHES_GRPC_CLIENT_CA_FILE"),
        private_key=_read("RUSHES_GRPC__TLS_KEY_FILE") if mutual else None,
        certificate_chain=_read("RUSHES_GRPC__TLS_CERT_FILE") if mutual else None,
    )
    options = [("grpc.ssl_target_name_override", server_name)]
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials, options=options) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=4)
        except grpc.RpcError as exc:
            print(f"gRPC health over TLS: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    serving = reply.status == health_pb2.HealthCheckResponse.SERVING
    print(f"gRPC health over TLS: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
