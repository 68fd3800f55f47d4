"""Bad files fail alone, with a one-line reason; good files beside them are ingested."""

import io
import zipfile
from pathlib import Path

import pymupdf
from conftest import SAMPLE_DATA, SAMPLE_PDFS
from PIL import Image
from typer.testing import CliRunner

from ingest.discover import discover
from rag import RAG, Settings
from rag.cli import app
from rag.core.records import Status
from rag.models.embedder import TextEmbedder


def _bad_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    good = SAMPLE_PDFS[0].read_bytes()
    files = {
        "corrupt": folder / "corrupt.pdf",
        "truncated": folder / "truncated.pdf",
        "empty": folder / "empty.pdf",
        "unsupported": folder / "notes.bin",
        "encrypted": folder / "secret.pdf",
    }
    files["corrupt"].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    files["truncated"].write_bytes(good[: len(good) // 3])
    files["empty"].write_bytes(b"")
    files["unsupported"].write_bytes(bytes(range(256)) * 4)
    doc = pymupdf.open(SAMPLE_PDFS[0])
    doc.save(files["encrypted"], encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    return files


def test_bad_files_fail_alone_with_one_line_reasons(rag: RAG, tmp_path: Path) -> None:
    bad = _bad_files(tmp_path / "bad")
    paths = [SAMPLE_PDFS[0], *bad.values(), SAMPLE_PDFS[1]]
    report = rag.ingest(paths)
    by_path = {Path(o.path).name: o for o in report.outcomes}
    assert by_path[SAMPLE_PDFS[0].name].status == "ingested"
    assert by_path[SAMPLE_PDFS[1].name].status == "ingested"
    for name, path in bad.items():
        outcome = by_path[path.name]
        if name == "truncated" and outcome.status == "ingested":
            continue  # PyMuPDF repairs some truncated files; then it must be complete
        assert outcome.status == "failed", (name, outcome)
        assert outcome.reason and "\n" not in outcome.reason and len(outcome.reason) < 200
    assert "empty" in by_path["empty.pdf"].reason
    assert "unsupported" in by_path["notes.bin"].reason
    assert "password" in by_path["secret.pdf"].reason
    good_units = sum(d.units for d in rag.documents() if d.status is Status.DONE)
    assert rag.services.store().count() == good_units
    failed = [d for d in rag.documents() if d.status is Status.FAILED]
    assert failed and all(d.reason for d in failed)
    assert all(rag.services.store().count(d.id) == 0 for d in failed)


def test_cli_exit_code_says_partial_failure(tmp_path: Path) -> None:
    bad = _bad_files(tmp_path / "bad")
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path / "d"), "ingest", str(SAMPLE_PDFS[0]), *map(str, bad.values())],
    )
    assert result.exit_code == 3, result.output
    assert "empty.pdf: the file is empty" in result.output
    assert "Ingested 1 document(s)" in result.output


def test_cli_exit_code_is_1_when_every_file_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "ingest", str(empty)])
    assert result.exit_code == 1


def test_missing_file_is_reported_not_raised(rag: RAG, tmp_path: Path) -> None:
    report = rag.ingest([tmp_path / "gone.pdf", SAMPLE_PDFS[0]])
    assert [o.status for o in report.outcomes] == ["failed", "ingested"]
    assert "cannot read" in report.outcomes[0].reason


def test_a_pdf_over_the_page_limit_is_refused(rag: RAG) -> None:
    rag.settings.max_pages = 3
    report = rag.ingest([SAMPLE_PDFS[0]])
    assert report.outcomes[0].status == "failed"
    assert "RAG_MAX_PAGES" in report.outcomes[0].reason


class _DeleteOnStart:
    """Progress hook that deletes a file when the first file starts: a file gone mid-run."""

    def __init__(self, victim: Path) -> None:
        self.victim = victim

    def file_started(self, path: Path, units: int) -> None:
        self.victim.unlink(missing_ok=True)

    def units_done(self, count: int) -> None:
        pass

    def file_finished(self, outcome) -> None:
        pass


def _corpus(folder: Path) -> dict[str, Path]:
    """At least 15 kinds of bad input, each built from real files or real libraries."""
    files = _bad_files(folder)
    png = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(png, "PNG")
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(jpeg, "JPEG")
    deck = (SAMPLE_DATA / "phylogeny-talk.pptx").read_bytes()
    talk = (SAMPLE_DATA / "phylogeny-talk.mp4").read_bytes()
    payloads = {
        "truncated png": ("cut.png", png.getvalue()[:200]),
        "truncated jpeg": ("cut.jpg", jpeg.getvalue()[:150]),
        "truncated pptx": ("cut.pptx", deck[: len(deck) // 2]),
        "truncated mp4": ("cut.mp4", talk[:2000]),
        "corrupt mp3": ("noise.mp3", b"ID3" + bytes(range(256)) * 30),
        "zero-byte image": ("blank.png", b""),
        "html that is binary": ("page.html", b"\x00\x01\x02" * 100),
        "zip that is no office file": ("archive.docx", _zip({"hello.txt": b"hi"})),
        "zip bomb as pptx": ("deck.pptx", _zip({"ppt/presentation.xml": b"\0" * 30_000_000})),
        "odd characters in a broken file's path": ("bröken ✓ 'file' (1).pdf", b"%PDF-1.4\n%%EOF"),
    }
    for kind, (name, data) in payloads.items():
        files[kind] = folder / name
        files[kind].write_bytes(data)
    bomb = folder / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 Mpx of nothing: 20 kB
    files["decompression bomb"] = bomb
    files["gone mid-run"] = folder / "vanishing.pdf"
    files["gone mid-run"].write_bytes(SAMPLE_PDFS[1].read_bytes())
    return files


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_a_corpus_of_bad_inputs_fails_file_by_file(tmp_path: Path, embedder: TextEmbedder) -> None:
    # One file loading at a time: with more, broken files fail so fast that the vanishing
    # file would be read before the first good file starts (and deletes it).
    with RAG(Settings(data_dir=tmp_path / "data", files_at_once=1), embedder=embedder) as rag:
        _bad_inputs_fail_file_by_file(rag, tmp_path)


def _bad_inputs_fail_file_by_file(rag: RAG, tmp_path: Path) -> None:
    bad = _corpus(tmp_path / "bad")
    assert len(bad) >= 15
    renamed = tmp_path / "good" / "really-a-pdf.png"  # a wrong extension is not an error
    renamed.parent.mkdir()
    renamed.write_bytes(SAMPLE_PDFS[2].read_bytes())
    odd = tmp_path / "good" / "Zeitplan für Q3 — «final» (2).pdf"
    odd.write_bytes(SAMPLE_PDFS[0].read_bytes())
    paths = [renamed, *bad.values(), odd]
    report = rag.ingest(paths, progress=_DeleteOnStart(bad["gone mid-run"]))
    by_path = {o.path: o for o in report.outcomes}
    assert by_path[str(renamed)].status == "ingested" and by_path[str(odd)].status == "ingested"
    for kind, path in bad.items():
        outcome = by_path[str(path)]
        if kind == "truncated" and outcome.status == "ingested":
            continue  # PyMuPDF repairs some truncated PDFs
        assert outcome.status == "failed", (kind, outcome)
        assert outcome.reason and "\n" not in outcome.reason and len(outcome.reason) < 240, kind
    assert "RAG_MAX_IMAGE_PIXELS" in by_path[str(bad["decompression bomb"])].reason
    assert "zip bomb" in by_path[str(bad["zip bomb as pptx"])].reason
    assert "cannot read" in by_path[str(bad["gone mid-run"])].reason
    done = [d for d in rag.documents() if d.status is Status.DONE]
    assert {d.source for d in done} == {renamed.name, odd.name}
    assert rag.services.store().count() == sum(d.units for d in done)
    assert {d.media_type for d in done} == {"application/pdf"}


def test_an_encrypted_pdf_opens_with_its_password(tmp_path: Path) -> None:
    secret = _bad_files(tmp_path / "bad")["encrypted"]
    base = ["--data-dir", str(tmp_path / "d"), "ingest", str(secret)]
    wrong = CliRunner().invoke(app, [*base, "--password", "nope"])
    assert wrong.exit_code == 1 and "does not open it" in wrong.output
    right = CliRunner().invoke(app, [*base, "--password", "u"])
    assert right.exit_code == 0 and "Ingested 1 document(s)" in right.output


def test_folders_take_include_and_exclude_globs(tmp_path: Path) -> None:
    for name in ("a.pdf", "b.md", "drafts/c.pdf", "drafts/d-draft.pdf", ".hidden/e.pdf"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    names = lambda found: sorted(p.relative_to(tmp_path).as_posix() for p in found)  # noqa: E731
    everything = ["a.pdf", "b.md", "drafts/c.pdf", "drafts/d-draft.pdf"]
    assert names(discover([tmp_path]).files) == everything
    assert names(discover([tmp_path], include=["*.pdf"], exclude=["*draft*"]).files) == ["a.pdf"]
    assert names(discover([tmp_path], exclude=["drafts/*"]).files) == ["a.pdf", "b.md"]
    assert names(discover([tmp_path / "b.md"], include=["*.pdf"]).files) == ["b.md"]  # named: taken
