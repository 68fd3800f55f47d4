"""Maintenance: backup and restore, reindex, status."""
