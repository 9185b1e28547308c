"""Photo checker: decode, quality gate and wound model for photos patients send."""
