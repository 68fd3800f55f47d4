"""Typed model inputs. sentence-transformers treats a bare string that looks like a URL or
a file path as an image to fetch or open; every piece of text we pass is wrapped here so
that it can only ever be text. There is no switch in the library to turn that off.
"""

from typing import TypedDict


class TextInput(TypedDict):
    text: str


def as_text(text: str) -> TextInput:
    """Wrap untrusted text (queries, document text) so the model reads it as text."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    return {"text": text}


def as_texts(texts: list[str]) -> list[TextInput]:
    return [as_text(t) for t in texts]
