"""Office files (PPTX, ODP, DOCX, ODT, XLSX, ODS) as pages: LibreOffice headless to PDF.

The converted PDF goes through the PDF loader, so slides and pages get images and text
like any PDF page; PPTX speaker notes join their slide's text. Office files are zip
archives, so the archive is checked before LibreOffice sees it: a declared unpacked
size over RAG_MAX_UNZIPPED_MB or an absurd compression ratio is refused as a zip bomb.
Each conversion runs with its own throwaway LibreOffice profile (parallel runs do not
share a lock) and a time limit.
"""

import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.formats import BY_MEDIA_TYPE
from ingest.loaders.base import LoaderOptions, OpenedSource
from ingest.loaders.pdf import open_pdf
from rag.core.errors import CorruptFileError, MissingExtraError, TooLargeError, first_line
from rag.core.records import Unit

MAX_RATIO = 200  # real office files compress about 2-20x; bombs by thousands


def check_archive(path: Path, max_unzipped_mb: float) -> None:
    """Refuse broken archives and zip bombs before anything unpacks them."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptFileError(f"not a readable office file ({first_line(exc)})") from exc
    unpacked = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if unpacked > max_unzipped_mb * 1e6 or unpacked / packed > MAX_RATIO:
        raise TooLargeError(
            f"it would unpack to {unpacked / 1e6:.0f} MB ({unpacked / packed:.0f}x its size):"
            f" refused as a zip bomb (RAG_MAX_UNZIPPED_MB={max_unzipped_mb:g})"
        )


def speaker_notes(path: Path) -> list[str]:
    """Each slide's notes (PPTX), in slide order; none without the `office` extra."""
    try:
        from pptx import Presentation
    except ImportError:
        return []

    notes = []
    for slide in Presentation(str(path)).slides:
        frame = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        notes.append(frame.text.strip() if frame is not None else "")
    return notes


def to_pdf(path: Path, extension: str, workdir: Path, timeout_s: float) -> Path:
    """Convert with LibreOffice headless; the input is copied under a plain name."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise MissingExtraError(
            "office files need LibreOffice: apt-get install libreoffice-impress"
            " libreoffice-writer libreoffice-calc (the `office` extra adds speaker notes)"
        )
    source = workdir / f"input{extension}"
    shutil.copyfile(path, source)
    command = [
        soffice,
        f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(workdir),
        str(source),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CorruptFileError(
            f"LibreOffice took over {timeout_s:g} s to convert it (RAG_OFFICE_TIMEOUT_S)"
        ) from exc
    pdf = workdir / "input.pdf"
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise CorruptFileError("LibreOffice could not convert it (a damaged office file?)")
    return pdf


def open_office(path: Path, options: LoaderOptions, media_type: str) -> OpenedSource:
    """Check the archive, convert to PDF, and hand the pages on (notes added to slides)."""
    check_archive(path, options.max_unzipped_mb)
    extension = BY_MEDIA_TYPE[media_type].extensions[0]  # what LibreOffice expects
    workdir = Path(tempfile.mkdtemp(prefix="mmrag-office-"))
    try:
        pdf = to_pdf(path, extension, workdir, options.office_timeout_s)
        notes = speaker_notes(path) if extension == ".pptx" else []
        opened = open_pdf(pdf, options)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    title = path.stem if opened.title == "input" else opened.title
    units = _with_notes(opened.units, notes, workdir)
    return OpenedSource(title, opened.unit_count, units, opened.remarks)


def _with_notes(units: Iterator[Unit], notes: list[str], workdir: Path) -> Iterator[Unit]:
    try:
        for unit in units:
            if unit.index < len(notes) and notes[unit.index]:
                unit.text = f"{unit.text}\n\nSpeaker notes: {notes[unit.index]}".strip()
            yield unit
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
