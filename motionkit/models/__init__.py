"""Model definitions (no pipelines): networks that load released weights."""
