"""The nats_server and s3_server fixtures start real, authenticated servers."""

from __future__ import annotations

import asyncio
import io

import nats
import pytest
from minio import Minio
from minio.error import S3Error
from nats.errors import NoServersError
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server


async def test_nats_server_round_trip_with_jetstream(nats_server: NatsServer) -> None:
    settings = nats_server.settings()
    assert settings.url == nats_server.url
    nc = await nats.connect(
        nats_server.url, user=nats_server.user, password=nats_server.password, allow_reconnect=False
    )
    try:
        js = nc.jetstream()
        await js.add_stream(name="FIXTURE_CHECK", subjects=["fixture.check.>"])
        ack = await js.publish("fixture.check.one", b"hello")
        assert ack.stream == "FIXTURE_CHECK"
        await js.delete_stream("FIXTURE_CHECK")
    finally:
        await nc.close()


async def test_nats_server_refuses_wrong_password(nats_server: NatsServer) -> None:
    with pytest.raises((NoServersError, nats.errors.Error, asyncio.TimeoutError, OSError)):
        nc = await nats.connect(
            nats_server.url,
            user=nats_server.user,
            password="wrong",
            allow_reconnect=False,
            max_reconnect_attempts=0,
            connect_timeout=2,
        )
        await nc.close()


def test_nats_server_is_alive_and_healthy(nats_server: NatsServer) -> None:
    assert nats_server.process is not None and nats_server.process.is_alive()
    assert nats_server.healthy()


def test_s3_server_put_get_with_credentials(s3_server: S3Server) -> None:
    settings = s3_server.settings(bucket="fixture-check")
    assert settings.endpoint == s3_server.endpoint
    assert settings.bucket == "fixture-check"
    client = Minio(
        s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key, secure=False
    )
    client.make_bucket("fixture-check")
    client.put_object("fixture-check", "a/b.txt", io.BytesIO(b"payload"), length=7)
    response = client.get_object("fixture-check", "a/b.txt")
    try:
        assert response.read() == b"payload"
    finally:
        response.close()
        response.release_conn()


def test_s3_server_refuses_anonymous_and_wrong_keys(s3_server: S3Server) -> None:
    wrong = Minio(s3_server.endpoint, access_key="nobody", secret_key="nothing-here", secure=False)
    with pytest.raises(S3Error):
        wrong.list_buckets()
    anonymous = Minio(s3_server.endpoint, secure=False)
    with pytest.raises(S3Error):
        anonymous.list_buckets()
