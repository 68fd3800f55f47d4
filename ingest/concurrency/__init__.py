"""Running loading work beside the embedder: threads ahead of it, worker processes."""
