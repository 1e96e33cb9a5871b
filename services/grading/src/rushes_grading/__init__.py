"""The grading service: look matching, scene continuity, LUT/CDL export and previews."""
