"""Tell a file's type from its first bytes, never from its extension.

Returns a media type; which types can be ingested is decided by the loader registry.
"""

import zipfile
from pathlib import Path

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


_OOXML_PREFIX = "application/vnd.openxmlformats-officedocument."
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
