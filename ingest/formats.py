"""The formats mmrag ingests: one table of media types with their kind and file
extensions, and `sniff`, which tells a file's type from its first bytes (never from its
extension).

Everything that lists formats reads this table: the loader registry (kind -> loader), the
ingest order (slow kinds first) and the web app's upload list. Which loader opens a kind
lives in `ingest.loaders.registry`; this module imports no loader, so the app can read
the extensions without loading PyMuPDF or PyAV.
"""

import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    """Which loader opens a format."""

    PDF = "pdf"
    TEXT = "text"
    IMAGE = "image"
    OFFICE = "office"  # converted to PDF by LibreOffice
    MEDIA = "media"  # audio or video: the streams decide which


@dataclass(frozen=True)
class Format:
    media_type: str
    kind: Kind
    extensions: tuple[str, ...]  # the first is the one converters expect


_OOXML_PREFIX = "application/vnd.openxmlformats-officedocument."
FORMATS: tuple[Format, ...] = (
    Format("application/pdf", Kind.PDF, (".pdf",)),
    Format("text/plain", Kind.TEXT, (".txt", ".md", ".markdown", ".html", ".htm")),
    Format("image/png", Kind.IMAGE, (".png",)),
    Format("image/jpeg", Kind.IMAGE, (".jpg", ".jpeg")),
    Format("image/webp", Kind.IMAGE, (".webp",)),
    Format("image/tiff", Kind.IMAGE, (".tif", ".tiff")),
    Format("image/gif", Kind.IMAGE, (".gif",)),
    Format(_OOXML_PREFIX + "presentationml.presentation", Kind.OFFICE, (".pptx",)),
    Format(_OOXML_PREFIX + "wordprocessingml.document", Kind.OFFICE, (".docx",)),
    Format(_OOXML_PREFIX + "spreadsheetml.sheet", Kind.OFFICE, (".xlsx",)),
    Format("application/vnd.oasis.opendocument.presentation", Kind.OFFICE, (".odp",)),
    Format("application/vnd.oasis.opendocument.text", Kind.OFFICE, (".odt",)),
    Format("application/vnd.oasis.opendocument.spreadsheet", Kind.OFFICE, (".ods",)),
    Format("audio/mpeg", Kind.MEDIA, (".mp3",)),
    Format("audio/ogg", Kind.MEDIA, (".ogg",)),
    Format("audio/flac", Kind.MEDIA, (".flac",)),
    Format("audio/wav", Kind.MEDIA, (".wav",)),
    Format("audio/mp4", Kind.MEDIA, (".m4a",)),
    Format("video/mp4", Kind.MEDIA, (".mp4",)),
    Format("video/x-matroska", Kind.MEDIA, (".mkv",)),
    Format("video/webm", Kind.MEDIA, (".webm",)),
)
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
UPLOAD_EXTENSIONS = sorted({e for f in FORMATS for e in f.extensions})
LOAD_COST = {Kind.MEDIA: 3, Kind.OFFICE: 2, Kind.IMAGE: 1}  # ranks: speech, LibreOffice, OCR


def kind_of(media_type: str) -> Kind | None:
    """The kind of a supported media type; None for one nobody loads."""
    known = BY_MEDIA_TYPE.get(media_type)
    return known.kind if known else None


# (offset, magic bytes, media type); checked in order
_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1a\x45\xdf\xa3", "video/x-matroska"),
    (4, b"ftyp", "video/mp4"),
]


def sniff(path: Path, head_bytes: int = 1024) -> str:
    """Media type from content; `application/octet-stream` when nothing matches."""
    with path.open("rb") as f:
        head = f.read(head_bytes)
    if b"%PDF-" in head:  # the PDF spec allows junk before the header
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"M4B "):
        return "audio/mp4"
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):  # an MP3 frame without ID3 tag
        return "audio/mpeg"
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in head[:64]:
        return "video/webm"
    for offset, magic, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return _office_type(path) if media_type == "application/zip" else media_type
    if head and _looks_like_text(head):
        return "text/plain"
    return "application/octet-stream"


_OOXML = {
    "ppt/presentation.xml": _OOXML_PREFIX + "presentationml.presentation",
    "word/document.xml": _OOXML_PREFIX + "wordprocessingml.document",
    "xl/workbook.xml": _OOXML_PREFIX + "spreadsheetml.sheet",
}


def _office_type(path: Path) -> str:
    """A zip's office type from its member names (OOXML) or `mimetype` member (ODF)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for member, media_type in _OOXML.items():
                if member in names:
                    return media_type
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                return archive.read("mimetype").decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, OSError):
        pass
    return "application/zip"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a multi-byte character cut at the end
    return True
