"""Ingestion: files -> typed units (page images + text) -> embedded points in the store."""
