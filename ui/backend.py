"""What the web app's events call: the Python API behind one lock, results as UI values.

The embedded store admits one process, and this process serves requests on several
threads; retrieval and catalog changes run under one lock, while a generator's tokens
stream outside it. Page images are handed to Gradio as PIL images (it caches its own
copies), so the app never serves a path from the data directory.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from ingest.images import open_stored
from rag.api import RAG
from rag.errors import RagError

DOC_COLUMNS = ["id", "source", "type", "status", "units", "tags", "reason"]
HIT_COLUMNS = ["#", "score", "source", "page", "modality", "text"]
Gallery = list[tuple[Image.Image, str]]


def _thumb(path: Path | None, caption: str) -> tuple[Image.Image, str] | None:
    if path is None or not path.exists():
        return None
    img = open_stored(path)
    img.thumbnail((900, 900))
    return img, caption


class Backend:
    def __init__(self, rag: RAG) -> None:
        self.rag = rag
        self.lock = threading.Lock()

    def documents(self) -> list[list[Any]]:
        with self.lock:
            docs = self.rag.documents()
        return [
            [
                d.id[:12],
                d.source,
                d.media_type,
                str(d.status),
                d.units,
                ",".join(d.tags),
                d.reason or "",
            ]
            for d in docs
        ]

    def ingest(self, files: list[str] | None, tags: str = "") -> tuple[str, list[list[Any]]]:
        if not files:
            return "No files given.", self.documents()
        tag_list = [t.strip() for t in tags.split(",") if t.strip()]
        with self.lock:
            report = self.rag.ingest([Path(f) for f in files], tag_list)
        lines = [
            f"Ingested {report.count('ingested')}, skipped {report.count('skipped')},"
            f" failed {report.count('failed')} ({report.units} units, {report.seconds:.1f} s)."
        ]
        lines += [f"failed: {Path(o.path).name}: {o.reason}" for o in report.failed]
        return "\n".join(lines), self.documents()

    def delete(self, ref: str) -> tuple[str, list[list[Any]]]:
        try:
            with self.lock:
                doc = self.rag.delete(ref.strip())
        except RagError as exc:
            return str(exc), self.documents()
        return f"Deleted {doc.source}.", self.documents()

    def search(
        self, query: str, image: Image.Image | None = None, filters: str = "", top_k: float = 5
    ) -> tuple[str, list[list[Any]], Gallery]:
        try:
            with self.lock:
                where = self.rag.filters([f for f in filters.split() if f])
                hits = self.rag.search(query, int(top_k), where, image=image, explain=True)
        except RagError as exc:
            return str(exc), [], []
        rows = [
            [i, round(h.score, 4), h.source, h.page, str(h.modality), h.text[:300]]
            for i, h in enumerate(hits, 1)
        ]
        gallery = [t for h in hits if (t := _thumb(h.image_path, f"{h.source} p. {h.page}"))]
        note = f"{len(hits)} hit(s)." if hits else "Nothing in the documents matches."
        return note, rows, gallery

    def ask(
        self, question: str, history: list[tuple[str, str]] | None = None
    ) -> Iterator[tuple[str, Gallery]]:
        """Yield (answer so far, source thumbnails); the last value is the checked answer."""
        try:
            with self.lock:
                stream = self.rag.ask_stream(question, history or [])
        except RagError as exc:
            yield str(exc), []
            return
        text = ""
        for piece in stream:
            text += piece
            yield text, []
        answer = stream.answer
        assert answer is not None
        sources = "\n".join(f"- {c.label()}" for c in answer.citations)
        body = answer.text + (f"\n\n**Sources**\n{sources}" if sources else "")
        if answer.notice:
            body += f"\n\n_{answer.notice}_"
        cited = {(c.source, c.page) for c in answer.citations}
        gallery = [
            t
            for h in answer.hits
            if (h.source, h.page) in cited
            and (t := _thumb(h.image_path, f"{h.source} p. {h.page}"))
        ]
        yield body, gallery
