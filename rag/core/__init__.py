"""The bottom layer: records, payload, vectors vocabulary, config, errors, text utilities."""
