"""QC service: renditions (stabilized, denoised, upscaled) checked against their source for the typical failure modes of AI fixes."""
