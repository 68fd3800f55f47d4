"""What the web app's events call: the Python API behind one lock, results as UI values.

The embedded store admits one process, and this process serves requests on several
threads; retrieval and catalog changes run under one lock, while a generator's tokens
stream outside it. Page images are handed to Gradio as PIL images (it caches its own
copies), so the app never serves a path from the data directory.
"""

import csv
import json
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from rag.app.facade import RAG
from rag.core.errors import RagError
from rag.core.records import FileOutcome, Hit, IngestReport, Modality
from rag.storage.images import open_stored
from ui.clips import audio_clip, clip_range, video_clip
from ui.highlight import highlight_words
from ui.safe_text import answer_markdown, as_text

DOC_COLUMNS = ["id", "title", "source", "type", "units", "tags", "added", "status", "reason"]
HIT_COLUMNS = ["#", "score", "reranker", "fused", "retrievers", "source", "page", "type", "text"]
FILE_COLUMNS = ["file", "status", "units", "reason"]
IMAGE_IGNORED = (
    "The attached image was not used: this profile reads text only (RAG_PROFILE=qwen3-vl"
    " searches by image)."
)
Gallery = list[tuple[Image.Image, str]]
Rows = list[list[Any]]
ProgressFn = Callable[[float, str], None]


def _thumb(hit: Hit) -> tuple[Image.Image, str]:
    """The stored page or keyframe; a card naming the source for units without an image."""
    if hit.image_path is not None and hit.image_path.exists():
        img = open_stored(hit.image_path)
        img.thumbnail((900, 900))
    else:
        img = Image.new("RGB", (480, 360), (236, 240, 246))
        draw = ImageDraw.Draw(img)
        draw.text((24, 24), f"{hit.modality}: {hit.title}", fill=(30, 30, 60), font_size=28)
        draw.text((24, 70), _where(hit), fill=(30, 30, 60), font_size=28)
        draw.multiline_text((24, 120), textwrap.fill(hit.text[:260], 36), fill=(70, 70, 90))
    return img, f"{hit.title} · {_where(hit)} · score {hit.score:.2f}"


def _where(hit: Hit) -> str:
    if hit.start_s is not None:
        return f"{hit.start_s:.0f}–{hit.end_s or hit.start_s:.0f} s"
    return f"p. {hit.page}"


def _retrievers(hit: Hit) -> str:
    if hit.explanation is None:
        return ""
    return ", ".join(
        f"{name} #{rank} ({score:.3f})"
        for name, (rank, score) in hit.explanation.retrievers.items()
        if rank is not None and score is not None
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class _Progress:
    """Ingest progress as (fraction, "file i/n: name") for a UI progress bar."""

    def __init__(self, files: int, report: ProgressFn) -> None:
        self.files, self.report = files, report
        self.done_files, self.units, self.done_units, self.name = 0, 1, 0, ""

    def file_started(self, path: Path, units: int) -> None:
        self.name, self.units, self.done_units = path.name, max(units, 1), 0
        self._show()

    def units_done(self, count: int) -> None:
        self.done_units += count
        self._show()

    def file_finished(self, outcome: FileOutcome) -> None:
        self.done_files += 1
        self.report(self.done_files / self.files, f"{Path(outcome.path).name}: {outcome.status}")

    def _show(self) -> None:
        within = min(self.done_units / self.units, 1.0)
        self.report(
            (self.done_files + within) / self.files,
            f"file {self.done_files + 1}/{self.files}: {self.name}"
            f" ({self.done_units}/{self.units} units)",
        )


class Backend:
    def __init__(self, rag: RAG) -> None:
        self.rag = rag
        self.lock = threading.Lock()

    def documents(self) -> Rows:
        with self.lock:
            docs = self.rag.documents()
        return [
            [
                d.id[:12],
                d.title,
                d.source,
                d.media_type,
                d.units,
                ",".join(d.tags),
                datetime.fromtimestamp(d.added, UTC).strftime("%Y-%m-%d %H:%M"),
                str(d.status),
                d.reason or "",
            ]
            for d in docs
        ]

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, id) pairs for a document picker."""
        with self.lock:
            return [(f"{d.title} ({d.source})", d.id) for d in self.rag.documents()]

    def ingest(
        self, files: list[str] | None, tags: str = "", progress: ProgressFn | None = None
    ) -> tuple[str, Rows, Rows]:
        """Ingest uploads; returns a summary, one row per file, and the document list."""
        if not files:
            return "No files given.", [], self.documents()
        tag_list = [t.strip() for t in tags.split(",") if t.strip()]
        kept = [self.rag.keep_upload(Path(f)) for f in files]
        watcher = _Progress(len(kept), progress) if progress else None
        with self.lock:
            report = self.rag.ingest(kept, tag_list, watcher)
        return _summary(report), _file_rows(report), self.documents()

    def _change(self, action: Callable[[], str]) -> tuple[str, Rows]:
        try:
            with self.lock:
                message = action()
        except RagError as exc:
            message = str(exc)
        return as_text(message), self.documents()  # names and reasons come from documents

    def delete(self, ref: str) -> tuple[str, Rows]:
        def run() -> str:
            doc = self.rag.delete(ref.strip())
            return f"Deleted {doc.source}."

        return self._change(run)

    def reindex(self, ref: str) -> tuple[str, Rows]:
        return self._change(lambda: _summary(self.rag.reingest(ref.strip())))

    def retag(self, ref: str, tags: str) -> tuple[str, Rows]:
        def run() -> str:
            doc = self.rag.set_tags(ref.strip(), tags.split(","))
            return f"Tags of {doc.source}: {', '.join(doc.tags) or '(none)'}."

        return self._change(run)

    def search(
        self,
        query: str,
        image: Image.Image | None = None,
        documents: list[str] | None = None,
        modalities: list[str] | None = None,
        tags: str = "",
        after: str = "",
        before: str = "",
        top_k: float = 5,
    ) -> tuple[str, Rows, Gallery, list[str], list[Hit]]:
        """Hits as a table, a gallery and CSV/JSON exports (plus the hits, for the viewer)."""
        specs = [f"doc={d}" for d in documents or []]
        specs += [f"modality={m}" for m in modalities or []]
        specs += [f"tag={t.strip()}" for t in tags.split(",") if t.strip()]
        dates = (("after", after), ("before", before))
        specs += [f"{key}={value.strip()}" for key, value in dates if value.strip()]
        try:
            with self.lock:
                where = self.rag.filters(specs)
                hits = self.rag.search(query, int(top_k), where, image=image, explain=True)
        except RagError as exc:
            return as_text(exc), [], [], [], []
        rows = [
            [
                i,
                round(h.score, 4),
                _round(h.rerank_score),
                _round(h.fused_score),
                _retrievers(h),
                h.source,
                h.page,
                str(h.modality),
                h.text[:300],
            ]
            for i, h in enumerate(hits, 1)
        ]
        gallery = [_thumb(h) for h in hits]
        note = f"{len(hits)} hit(s)." if hits else "Nothing in the documents matches."
        return note, rows, gallery, _export(query, hits) if hits else [], hits

    def ask(
        self,
        question: str,
        history: list[tuple[str, str]] | None = None,
        image: Image.Image | None = None,
    ) -> Iterator[tuple[str, Gallery, list[Hit]]]:
        """Yield (answer so far, source thumbnails, cited hits); the last is the checked answer.

        An attached image joins retrieval where the profile reads images; elsewhere the
        question is answered from its text and the answer says the image was not used.
        """
        ignored = ""
        if image is not None and not self.rag.reads_images:
            image, ignored = None, IMAGE_IGNORED
        try:
            with self.lock:
                stream = self.rag.ask_stream(question, history or [], image=image)
        except RagError as exc:
            yield as_text(exc), [], []
            return
        text = ""
        for piece in stream:
            text += piece
            yield answer_markdown(text), [], []  # every partial text is made safe, too
        answer = stream.answer
        assert answer is not None
        # The cited pages; when a model cites none, the pages it was given (or the
        # extractive answer's) are still what the user wants to look at.
        shown_citations = answer.citations or answer.context
        heading = "Sources" if answer.citations else "Pages consulted"
        sources = "\n".join(f"- {as_text(c.label())}" for c in shown_citations)
        shown_text = answer_markdown(answer.text) if answer.generated else as_text(answer.text)
        body = shown_text + (f"\n\n**{heading}**\n{sources}" if sources else "")
        for notice in filter(None, (answer.notice, ignored)):
            body += f"\n\n_{as_text(notice)}_"
        cited = {(c.document_id, c.page) for c in shown_citations}
        shown = [h for h in answer.hits if (h.document_id, h.page) in cited]
        yield body, [_thumb(h) for h in shown], shown

    def view(self, hit: Hit, query: str) -> tuple[Image.Image | None, str, str | None, str | None]:
        """A source opened large, with the query's words marked, and its text; for audio
        and video, a clip of the cited time range (audio file, video file)."""
        with self.lock:
            words = self.rag.words(hit)
            doc = self.rag.document(hit.document_id)
        image = None
        marks = 0
        if hit.image_path is not None and hit.image_path.exists():
            image, marks = highlight_words(open_stored(hit.image_path), words, query)
        found = f" · {marks} matching word(s) marked" if marks else ""
        header = (
            f"### {as_text(hit.title)} — {_where(hit)}\n"
            f"_{as_text(hit.source)} · score {hit.score:.3f}{found}_"
        )
        sound, video = _clip(hit, Path(doc.path) if doc else None)
        return image, f"{header}\n\n{as_text(hit.page_text or hit.text)}", sound, video


def _clip(hit: Hit, source: Path | None) -> tuple[str | None, str | None]:
    """(audio clip, video clip) of a time-ranged hit, while its file is still there."""
    timed = hit.modality in (Modality.AUDIO, Modality.VIDEO) and hit.start_s is not None
    if not timed or source is None or not source.is_file():
        return None, None
    start, end = clip_range(hit.start_s or 0.0, hit.end_s or hit.start_s or 0.0)
    folder = Path(tempfile.mkdtemp(prefix="mmrag-clip-"))
    try:
        if hit.modality is Modality.VIDEO:
            return None, str(video_clip(source, start, end, folder / "clip.mp4"))
        return str(audio_clip(source, start, end, folder / "clip.wav")), None
    except RagError:  # the media extra is missing: the page view still works
        return None, None


def _summary(report: IngestReport) -> str:
    lines = [
        f"Ingested {report.count('ingested')}, skipped {report.count('skipped')},"
        f" failed {report.count('failed')} ({report.written_units} units,"
        f" {report.seconds:.1f} s)."
    ]
    lines += [f"failed: {Path(o.path).name}: {o.reason}" for o in report.failed]
    return "\n".join(lines)


def _file_rows(report: IngestReport) -> Rows:
    return [[Path(o.path).name, o.status, o.units, o.reason or ""] for o in report.outcomes]


def _export(query: str, hits: list[Hit]) -> list[str]:
    """The hits as CSV and JSON files in a fresh temporary folder (Gradio serves temp files)."""
    folder = Path(tempfile.mkdtemp(prefix="mmrag-export-"))
    records = [h.to_json() for h in hits]
    (folder / "hits.json").write_text(json.dumps({"query": query, "hits": records}, indent=2))
    columns = [k for k in records[0] if k != "explanation"]
    with (folder / "hits.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    return [str(folder / "hits.csv"), str(folder / "hits.json")]
