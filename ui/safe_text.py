"""Text from documents, file names and models, made safe to show in Gradio's Markdown.

Everything a document supplies (quotes, page text, titles, file names, reasons) is shown
as literal text: every character Markdown or HTML would act on is escaped, so
`![x](http://…)`, `<img src=…>`, reference-style images (`![x][r]` with `[r]: http://…`)
and nested brackets all print as typed and load nothing. Answers a model wrote keep the
harmless part of Markdown (emphasis, lists, code, headings); images, links and raw HTML
print as text. The app's Content-Security-Policy (`ui/guard.py`) is the second wall.
"""

import html
import re

_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>:])")  # CommonMark's escapable set
_LINKING = re.compile(r"([\\\[\]()!<>])")  # what makes images, links and HTML
# a code span as CommonMark closes it: the closing run of backticks exactly as long as
# the opening one (a longer run does not close it, and then nothing inside is code)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_AUTOLINK = re.compile(r"://|\bwww\.", re.I)  # what GFM renderers turn into links by themselves
# a `[n]` citation marker, escaped above, shown as typed again: alone it links nothing
# (no reference definition can exist, its brackets and colons being escaped too)
_CITATION = re.compile(r"\\\[(\d+(?:,\s*\d+)*)\\\](?!\\?[:(\[])")


def as_text(value: object) -> str:
    """Any string, rendered by Markdown exactly as written (line breaks kept)."""
    escaped = _MARKDOWN_ACTIVE.sub(r"\\\1", html.escape(str(value), quote=False))
    return _CITATION.sub(r"[\1]", escaped).replace("\n", "  \n")


def answer_markdown(text: str) -> str:
    """A model's answer with emphasis, lists and code kept; images, links, reference
    definitions and HTML shown as inert text (an escaped bracket opens no image, link or
    reference). Code spans stay as written: Markdown shows them literally anyway. Safe on
    a partial, streamed answer too (an unclosed span is escaped until it closes)."""
    shown, done = [], 0
    for span in _CODE_SPAN.finditer(text):
        shown += [_inert(text[done : span.start()]), span.group(0)]
        done = span.end()
    return "".join([*shown, _inert(text[done:])])


def _inert(text: str) -> str:
    escaped = _LINKING.sub(r"\\\1", html.escape(text, quote=False))
    escaped = _AUTOLINK.sub(lambda m: m.group(0).replace("/", "\\/").replace(".", "\\."), escaped)
    return _CITATION.sub(r"[\1]", escaped)
