"""ASR service: transcripts with word timings (Whisper on Triton), broadcast subtitles and their QC."""
