"""Where data lives: the catalog, page images and the vector stores."""
