"""`python -m rag` runs the CLI (same as the `rag` script)."""

from rag.cli import app

app(prog_name="rag")
