"""Answers: the extractive answer used when no generator is configured.

It quotes, for each of the best hits, the sentences of the matched passage that share
most words with the question, and cites each quote as [n] -> document and page. It
writes no new text, so it cannot invent facts; it says plainly that it is extractive.
"""

import re

from rag.core.records import Answer, Citation, Hit
from rag.core.text import terms

NO_GENERATOR = (
    "No generator is configured, so this answer quotes the most relevant passages"
    " instead of writing one."
)
NOTHING_FOUND = "Nothing in the ingested documents matches this question."

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def quote(passage: str, question: str, max_words: int = 60) -> str:
    """The run of sentences in `passage` that best covers the question, at most ~max_words."""
    sentences = [s for s in _SENTENCE.split(passage) if s.strip()]
    if not sentences:
        return ""
    wanted = terms(question)
    scores = [len(terms(s) & wanted) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    chosen = [sentences[best]]
    left, right = best - 1, best + 1
    while sum(len(s.split()) for s in chosen) < max_words and (left >= 0 or right < len(sentences)):
        if right < len(sentences):
            chosen.append(sentences[right])
            right += 1
        elif left >= 0:
            chosen.insert(0, sentences[left])
            left -= 1
    words = " ".join(chosen).split()
    limit = max(max_words, len(sentences[best].split()))  # never cut the best sentence
    return " ".join(words[:limit]) + (" …" if len(words) > limit else "")


def citation(number: int, hit: Hit) -> Citation:
    return Citation(
        number, hit.source, hit.page, hit.document_id, hit.title, hit.start_s, hit.end_s
    )


def extractive_answer(
    question: str, hits: list[Hit], max_quotes: int = 3, notice: str | None = NO_GENERATOR
) -> Answer:
    """Quote the best hits with [n] citations; `notice` says why no generator wrote it."""
    if not hits:
        return Answer(question, NOTHING_FOUND, [], [], generated=False, notice=notice)
    lines, citations = [], []
    for hit in hits[:max_quotes]:
        text = quote(hit.text or hit.page_text, question)
        if not text:
            continue
        n = len(citations) + 1
        citations.append(citation(n, hit))
        lines.append(f"[{n}] “{text}”")
    body = "\n".join(lines) if lines else NOTHING_FOUND
    return Answer(question, body, citations, hits, generated=False, notice=notice)
