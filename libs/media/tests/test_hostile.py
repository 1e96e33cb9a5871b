"""Every hostile file is refused with its code, quickly, leaving no output and touching nothing else.

The playlists in the corpus point at a loopback port this module listens on and at a FIFO it
watches: a connection or an open of either would mean FFmpeg followed a reference.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rushes_config import MediaLimits
from rushes_media import MediaRejected, extract_audio_wav, make_poster, make_proxy, probe
from rushes_media import safe_open as safe_open_module

# Generous: every case takes milliseconds; the bound catches a hang, not a slowdown.
TIME_BOUND_S = 10.0


class FifoWatch:
    """A FIFO whose opening for reading by anyone flips `opened`; reading it would block forever."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._wait_for_reader, daemon=True)
        self._thread.start()

    def _wait_for_reader(self) -> None:
        with open(self.path, "wb"):  # blocks until a reader opens the FIFO
            self._opened.set()

    @property
    def opened(self) -> bool:
        return self._opened.is_set()

    def close(self) -> None:
        if not self.opened:
            reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # release the writer thread
            self._thread.join(timeout=5)
            os.close(reader)


class Listener:
    """A loopback TCP port that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connected(self) -> bool:
        try:
            connection, _ = self.sock.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FifoWatch]:
    watch = FifoWatch(tmp_path_factory.mktemp("secret") / "secret.ts")
    yield watch
    watch.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, listener: Listener, secret: FifoWatch) -> list:
    from rushes_testing.hostile import build_hostile_corpus

    return build_hostile_corpus(
        tmp_path_factory.mktemp("hostile"), port=listener.port, secret=str(secret.path)
    )


@pytest.fixture
def quick_limits() -> MediaLimits:
    return MediaLimits(probe_timeout_s=5.0, job_timeout_s=5.0)


def _case_ids(corpus: list) -> list[str]:
    return [case.name for case in corpus]


def test_corpus_covers_every_kind_of_attack(corpus: list) -> None:
    codes = {case.expected_code for case in corpus}
    assert codes >= {
        "empty_file",
        "not_media",
        "unsupported_format",
        "truncated",
        "dimensions_exceed_limit",
        "duration_exceeds_limit",
        "frame_rate_exceeds_limit",
        "playlist_or_reference",
        "metadata_too_large",
        "unsupported_codec",
        "too_many_streams",
    }


def test_probe_rejects_every_hostile_file(
    corpus: list, quick_limits: MediaLimits, listener: Listener, secret: FifoWatch
) -> None:
    outcomes = {}
    for case in corpus:
        started = time.monotonic()
        with pytest.raises(MediaRejected) as caught:
            probe(case.path, quick_limits)
        elapsed = time.monotonic() - started
        outcomes[case.name] = caught.value.code
        assert elapsed < TIME_BOUND_S, f"{case.name} took {elapsed:.1f} s"
        assert caught.value.reason, case.name
    assert outcomes == {case.name: case.expected_code for case in corpus}
    assert not listener.connected(), "a playlist entry made FFmpeg connect to the listening port"
    assert not secret.opened, "a playlist entry made FFmpeg open the watched file"


DERIVERS: dict[str, Callable[[Path, Path, MediaLimits], object]] = {
    "proxy": lambda src, out, limits: make_proxy(src, out / "proxy.mp4", limits=limits),
    "poster": lambda src, out, limits: make_poster(src, out / "poster.jpg", limits=limits),
    "audio": lambda src, out, limits: extract_audio_wav(src, out / "audio.wav", limits=limits),
}
# The poster reads only up to its frame (10% in): a file cut at 30% still has that frame.
POSTER_READS_PAST = {"truncated.mkv"}


@pytest.mark.parametrize("kind", sorted(DERIVERS))
def test_derived_files_refuse_hostile_input_and_leave_nothing(
    kind: str, corpus: list, quick_limits: MediaLimits, tmp_path: Path, listener: Listener, secret: FifoWatch
) -> None:
    derive = DERIVERS[kind]
    for case in corpus:
        if kind == "poster" and case.name in POSTER_READS_PAST:
            continue
        out_dir = tmp_path / case.name
        out_dir.mkdir()
        started = time.monotonic()
        with pytest.raises(MediaRejected) as caught:
            derive(case.path, out_dir, quick_limits)
        assert time.monotonic() - started < TIME_BOUND_S, case.name
        assert caught.value.code == case.expected_code, f"{kind} of {case.name}: {caught.value}"
        assert list(out_dir.iterdir()) == [], f"{kind} of {case.name} left {list(out_dir.iterdir())}"
    assert not listener.connected()
    assert not secret.opened


def _playlist(directory: Path, listener: Listener, secret: FifoWatch) -> Path:
    path = directory / "deep.m3u8"
    path.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:10,\nhttp://127.0.0.1:{listener.port}/a.ts\n#EXTINF:10,\nfile://{secret.path}\n#EXT-X-ENDLIST\n"
    )
    return path


def test_container_allowlist_stops_playlists_the_sniffer_missed(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    listener: Listener,
    secret: FifoWatch,
    limits: MediaLimits,
) -> None:
    monkeypatch.setattr(safe_open_module, "sniff", lambda head: None)
    with pytest.raises(MediaRejected) as caught:
        probe(_playlist(tmp_path, listener, secret), limits)
    assert caught.value.code == "unsupported_format"
    assert "hls" in caught.value.reason
    assert not listener.connected()
    assert not secret.opened


def test_nested_opens_are_refused_even_when_the_demuxer_runs(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    listener: Listener,
    secret: FifoWatch,
    limits: MediaLimits,
) -> None:
    """Third guard alone: the HLS demuxer is allowed and sniffing is off; its segment opens must fail."""
    attempts: list[str] = []
    refuse = safe_open_module._refuse_nested_open

    def recording_refusal(url: str, flags: int, options: dict) -> object:
        attempts.append(url)
        return refuse(url, flags, options)

    monkeypatch.setattr(safe_open_module, "sniff", lambda head: None)
    monkeypatch.setattr(safe_open_module, "ALLOWED_FORMATS", safe_open_module.ALLOWED_FORMATS | {"hls"})
    monkeypatch.setattr(safe_open_module, "_refuse_nested_open", recording_refusal)
    with pytest.raises(MediaRejected) as caught:
        probe(_playlist(tmp_path, listener, secret), limits)
    assert caught.value.code in {"playlist_or_reference", "not_media"}
    assert attempts, "the HLS demuxer never tried a nested open, so the guard was not exercised"
    assert not listener.connected()
    assert not secret.opened


def test_fifo_watch_detects_an_open(tmp_path: Path) -> None:
    """The detector used above really notices a reader (so its silence means something)."""
    watch = FifoWatch(tmp_path / "probe.fifo")
    reader = os.open(watch.path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        deadline = time.monotonic() + 5
        while not watch.opened and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watch.opened
    finally:
        os.close(reader)
        watch.close()


def test_listener_detects_a_connection() -> None:
    listening = Listener()
    try:
        with contextlib.closing(socket.create_connection(("127.0.0.1", listening.port), timeout=2)):
            time.sleep(0.05)
            assert listening.connected()
    finally:
        listening.close()
