"""Citation bookkeeping for generated answers, and output that is safe to render.

A model may cite numbers it was never given ("[7]" with three sources); those are
removed from the text and reported. A model may also echo markdown or HTML from a
document, such as an image pointing at an outside server: rendered, it would leak the
reader's address, so images become their alt text and raw HTML tags are dropped.
"""

import re

_CITE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def sanitize(text: str) -> str:
    """Markdown images -> alt text; HTML tags removed; any other `![` (nested brackets,
    reference-style `![x][ref]`) loses its `!`, so no renderer sees an image in it. Links
    stay as text the UI escapes (`ui/safe_text.py`)."""
    return _HTML_TAG.sub("", _MD_IMAGE.sub(lambda m: m.group(1), text)).replace("![", "[")


def check_citations(text: str, sources: int) -> tuple[str, list[int], list[int]]:
    """Return (text without invented numbers, valid numbers cited in order, invented ones)."""
    cited: list[int] = []
    invented: list[int] = []

    def keep(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
        good = [n for n in numbers if 1 <= n <= sources]
        invented.extend(n for n in numbers if not 1 <= n <= sources)
        cited.extend(n for n in good if n not in cited)
        return f"[{', '.join(map(str, good))}]" if good else ""

    cleaned = _CITE.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned), cited, sorted(set(invented))
