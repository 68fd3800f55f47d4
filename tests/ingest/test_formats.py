"""Text, Markdown, HTML and image files become units; bad images fail alone."""

import io
from pathlib import Path

from conftest import SAMPLE_PDFS
from PIL import Image

from ingest.formats import BY_MEDIA_TYPE, FORMATS, UPLOAD_EXTENSIONS
from ingest.loaders.base import LoaderOptions
from ingest.loaders.pdf import open_pdf
from ingest.loaders.registry import loaders
from ingest.loaders.text import split_units
from rag import RAG
from rag.core.records import Status

MARKDOWN = (
    """Intro line before any heading.

# Installing

Use the installer to set up the zebra tracker. """
    + "word " * 400
    + """

## Removing

Delete the folder to remove the zebra tracker.
"""
)


def test_markdown_splits_at_headings_and_caps_unit_size() -> None:
    units = split_units(MARKDOWN, words=300)
    assert units[0].startswith("Intro line")
    assert any(u.startswith("# Installing") for u in units)
    assert units[-1].startswith("## Removing")
    assert max(len(u.split()) for u in units) <= 300


def test_text_and_html_are_ingested_and_searchable(rag: RAG, tmp_path: Path) -> None:
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "notes.md").write_text(MARKDOWN)
    (tmp_path / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>Otters</title><script>var secret=1;</script></head>"
        "<body><h1>River otters</h1><p>Otters hold hands while they sleep.</p></body></html>"
    )
    report = rag.ingest([tmp_path])
    assert report.count("ingested") == 2, report
    hit = rag.search("Why do otters hold hands when sleeping?", top_k=1)[0]
    assert hit.source == "page.html" and hit.title == "Otters" and hit.modality == "text"
    assert "secret" not in hit.page_text
    removing = rag.search("How do I remove the zebra tracker?", top_k=1)[0]
    assert removing.source == "notes.md" and "Removing" in removing.page_text


def test_images_become_units_with_stored_images(rag: RAG, tmp_path: Path) -> None:
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    Image.new("RGB", (120, 80), "blue").save(tmp_path / "shot.png")
    frames = [Image.new("RGB", (60, 60), c) for c in ("red", "green", "blue")]
    frames[0].save(tmp_path / "scan.tiff", save_all=True, append_images=frames[1:])
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: stored 100x50, shown 50x100
    Image.new("RGB", (100, 50), "white").save(tmp_path / "photo.jpg", exif=exif)
    (tmp_path / "disguised.jpg").write_bytes((tmp_path / "shot.png").read_bytes())
    report = rag.ingest([tmp_path])
    # disguised.jpg comes first and holds shot.png's bytes: typed by content, shot is a duplicate
    assert report.count("ingested") == 3 and report.count("skipped") == 1
    docs = {d.source: d for d in rag.documents()}
    assert docs["disguised.jpg"].media_type == "image/png" and docs["disguised.jpg"].units == 1
    assert docs["scan.tiff"].units == 3 and "shot.png" not in docs
    keys = rag.services.catalog.image_keys(docs["photo.jpg"].id)
    with Image.open(rag.services.images.path(next(iter(keys)))) as stored:
        assert stored.size == (50, 100)


def test_bad_images_fail_alone(rag: RAG, tmp_path: Path) -> None:
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    buf = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buf, "PNG")  # 144 Mpx: a small file, a huge image
    (tmp_path / "bomb.png").write_bytes(buf.getvalue())
    (tmp_path / "fine.png").write_bytes(_png())
    report = rag.ingest([tmp_path])
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["fine.png"].status == "ingested"
    assert "not a readable image" in by_name["broken.png"].reason
    assert "pixel" in by_name["bomb.png"].reason
    assert all(d.status is Status.DONE for d in rag.documents() if d.source == "fine.png")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "yellow").save(buf, "PNG")
    return buf.getvalue()


def test_worker_processes_render_the_same_pages_in_order() -> None:
    pdf = next(p for p in SAMPLE_PDFS if p.name == "sandwich-paper.pdf")  # 21 pages
    pooled = open_pdf(pdf, LoaderOptions(render_workers=2, render_dpi=40))
    alone = open_pdf(pdf, LoaderOptions(render_workers=1, render_dpi=40))
    pairs = list(zip(pooled.units, alone.units, strict=True))
    assert len(pairs) == pooled.unit_count == 21
    for a, b in pairs:
        assert (a.index, a.text, a.words) == (b.index, b.text, b.words)
        assert a.image.tobytes() == b.image.tobytes()


def test_every_format_in_the_table_has_a_loader_and_an_upload_extension() -> None:
    registered = loaders()
    assert set(registered) == set(BY_MEDIA_TYPE)
    assert all(f.extensions for f in FORMATS)


def test_the_web_app_accepts_every_extension_of_the_format_table() -> None:
    from ui.app import UPLOAD_TYPES

    assert UPLOAD_TYPES == UPLOAD_EXTENSIONS
    assert {".pptx", ".docx", ".odp", ".xlsx", ".pdf", ".mp3", ".png"} <= set(UPLOAD_TYPES)
