"""The one error type of the subtitle domain: bad input, named precisely."""

from __future__ import annotations


class SubtitleInputError(ValueError):
    """Words, cues, a profile, shot changes or a reference given to the subtitle code are not valid.

    The message names the offending item (word index, cue number, field) so that a caller can turn
    it into an INVALID_ARGUMENT status or a one-line CLI error without more context.
    """


class ReferenceTranscriptError(SubtitleInputError):
    """A reference transcript file cannot be used (wrong encoding, empty, too large)."""
