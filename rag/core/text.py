"""Split a unit's text into overlapping word windows that fit a small embedder's input.

A page of a manual holds 400-800 words; MiniLM reads 256 word pieces (~180 words) and
silently drops the rest. Embedding windows and scoring the page by its best window
(Qdrant MaxSim) keeps the whole page searchable. Windows are by words, not tokens, so
this module needs no tokenizer; the default size leaves head-room for long words.
Windows are kept as word spans, so the store holds the page text once.
"""

import re


def normalize(text: str) -> str:
    """Collapse whitespace and undo end-of-line hyphenation from PDF text layers."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return " ".join(text.split())


def spans(text: str, words: int = 120, overlap: int = 30) -> list[tuple[int, int]]:
    """Word ranges [start, end) of windows of `words` words, `overlap` shared with the last."""
    n = len(text.split())
    if n == 0:
        return []
    step = max(1, words - overlap)
    out = []
    for start in range(0, n, step):
        out.append((start, min(n, start + words)))
        if start + words >= n:
            break
    return out


def cut(text: str, span: tuple[int, int]) -> str:
    """The words of `text` in `span`."""
    return " ".join(text.split()[span[0] : span[1]])


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or the this to"
    " what when where which who why with you your my we our".split()
)


def terms(text: str) -> set[str]:
    """Content words, crudely stemmed to 5 letters so 'installing' meets 'install'."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def best_window(text: str, query: str, words: int = 120, overlap: int = 30) -> str:
    """The passage window of `text` sharing most content words with `query`."""
    windows = spans(text, words, overlap)
    if not windows:
        return ""
    wanted = terms(query)
    return cut(text, max(windows, key=lambda w: len(terms(cut(text, w)) & wanted)))


def highlight(text: str, query: str) -> tuple[str, list[str]]:
    """`text` with words sharing a stem with the query wrapped in ** **, and those words."""
    wanted = terms(query)
    matched: list[str] = []

    def mark(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.lower()[:5] in wanted and len(word) > 1 and word.lower() not in _STOP:
            if word.lower() not in matched:
                matched.append(word.lower())
            return f"**{word}**"
        return word

    return re.sub(r"[A-Za-z0-9]+", mark, text), matched
