"""Vector stores: one interface and query plan, embedded and server engines."""
