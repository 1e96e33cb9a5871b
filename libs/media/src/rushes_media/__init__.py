"""Probing and decoding untrusted media through PyAV, with limits; proxy, poster and audio derivation.

Every entry point opens files through `rushes_media.safe_open.open_untrusted`, so the same guards
(size, content sniffing, container allowlist, no nested opens, header limits, time bounds) protect
probing and every derived file alike.
"""

from rushes_media.errors import REJECTION_CODES, MediaRejected
from rushes_media.filenames import validate_filename
from rushes_media.frames import FrameRequestError, Frames, frames_at, frames_at_indices
from rushes_media.planes import plane_array
from rushes_media.poster import make_poster
from rushes_media.probe import probe
from rushes_media.proxy import extract_audio_wav, make_proxy, make_proxy_and_wav
from rushes_media.safe_open import ALLOWED_FORMATS
from rushes_media.wav import PcmWav, PcmWavFile, WavError, open_pcm_wav, read_pcm_wav

__all__ = [
    "ALLOWED_FORMATS",
    "REJECTION_CODES",
    "FrameRequestError",
    "Frames",
    "MediaRejected",
    "PcmWav",
    "PcmWavFile",
    "WavError",
    "extract_audio_wav",
    "frames_at",
    "frames_at_indices",
    "make_poster",
    "make_proxy",
    "make_proxy_and_wav",
    "open_pcm_wav",
    "plane_array",
    "probe",
    "read_pcm_wav",
    "validate_filename",
]
