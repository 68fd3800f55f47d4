"""Plain text, Markdown and HTML as units of sensible size (no page images).

Markdown is split at headings first; every piece is then cut into units of at most
`UNIT_WORDS` words on paragraph boundaries where possible. HTML is reduced to its
visible text with the standard library's parser (scripts and styles dropped; no
network, no entity expansion beyond HTML's own). Left out: rendering these as images.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from ingest.loaders.base import LoaderOptions, OpenedSource
from rag.core.errors import CorruptFileError
from rag.core.records import Modality, Unit
from rag.core.text import normalize

UNIT_WORDS = 300  # about a page of prose: big enough for context, small enough to cite
_HEADING = re.compile(r"^#{1,6}\s", re.M)


class _VisibleText(HTMLParser):
    SKIP: ClassVar[set[str]] = {"script", "style", "head", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skipping = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        self._in_title = tag == "title"
        if tag in {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "section"}:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = data.strip()
        elif not self._skipping:
            self.parts.append(data)


def split_units(text: str, words: int = UNIT_WORDS) -> list[str]:
    """Sections (Markdown headings) cut into paragraph-aligned chunks of <= `words` words."""
    sections = [s for s in _HEADING.split(text) if s.strip()] if _HEADING.search(text) else [text]
    heads = _HEADING.findall(text)
    if len(sections) > len(heads):  # text before the first heading
        heads = ["", *heads]
    units: list[str] = []
    for head, body in zip(heads, sections, strict=False):
        current: list[str] = []
        for para in re.split(r"\n\s*\n", head + body):
            tokens = para.split()
            for chunk in (tokens[i : i + words] for i in range(0, len(tokens), words)):
                if current and sum(len(p.split()) for p in current) + len(chunk) > words:
                    units.append(" ".join(current))
                    current = []
                current.append(" ".join(chunk))
        if current:
            units.append(" ".join(current))
    return [normalize(u) for u in units if u.strip()]


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"not valid UTF-8 text (byte {exc.start})") from exc


def open_text(path: Path, options: LoaderOptions) -> OpenedSource:
    text = _read(path)
    title = path.stem
    if re.match(r"\s*(<!doctype html|<html)", text[:2048], re.I):
        parser = _VisibleText()
        parser.feed(text)
        text, title = "".join(parser.parts), parser.title or title
    pieces = split_units(text)
    if not pieces:
        raise CorruptFileError("the file has no text")
    units = (Unit(i, Modality.TEXT, piece) for i, piece in enumerate(pieces))
    return OpenedSource(title=title, unit_count=len(pieces), units=units)
