"""Document text and model answers, rendered by a real CommonMark renderer (with raw
HTML on, as the most permissive one would be), produce no image, link or HTML element."""

import pytest
from markdown_it import MarkdownIt

from ui.safe_text import answer_markdown, as_text

HOSTILE = [
    "![x](http://127.0.0.1:9/a.png)",
    "![a [nested] b](http://127.0.0.1:9/b.png)",
    "![y][ref]\n\n[ref]: http://127.0.0.1:9/c.png",
    "[ref]: http://127.0.0.1:9/c.png\n\n![y][ref]",
    "<img src=http://127.0.0.1:9/d.png>",
    '<svg><image href="http://127.0.0.1:9/e.png"/></svg>',
    "<http://127.0.0.1:9/f.png>",
    "[click](javascript:alert(1))",
    "<script>alert(1)</script>",
    "![z](<http://127.0.0.1:9/g.png>)",
    '<a href="http://127.0.0.1:9/h">x</a>',
    "[1]: http://127.0.0.1:9/i.png\n\n![x][1] and [1]",
    "`x ![y](http://127.0.0.1:9/j.png)``",  # a longer run does not close the span
    "`a``b` ![z](http://127.0.0.1:9/k.png)",
]
RENDER = MarkdownIt("commonmark", {"html": True})


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("make_safe", [as_text, answer_markdown])
def test_no_image_link_or_html_survives(text: str, make_safe) -> None:
    rendered = RENDER.render(make_safe(text))
    for element in ("<img", "<a ", "<svg", "<script", "<image"):
        assert element not in rendered, (text, rendered)


def test_document_text_reads_as_written() -> None:
    text = "Cost: $5 * 3 = [15] #total <b>not bold</b> ![x](y)"
    rendered = RENDER.render(as_text(text))
    assert "&lt;b&gt;not bold&lt;/b&gt;" in rendered and "![x](y)" in rendered
    assert "#total" in rendered and "* 3" in rendered


def test_answers_keep_emphasis_lists_code_and_citations() -> None:
    rendered = RENDER.render(answer_markdown("**Install** it [1]:\n\n- `pip install x` [2, 3]"))
    assert "<strong>Install</strong>" in rendered and "<li>" in rendered
    assert "<code>pip install x</code>" in rendered and "[1]" in rendered and "[2, 3]" in rendered


def test_code_spans_in_answers_read_as_written() -> None:
    rendered = RENDER.render(answer_markdown("Run `install.packages()` or `<img src=x>` [1]"))
    assert "<code>install.packages()</code>" in rendered
    assert "<code>&lt;img src=x&gt;</code>" in rendered and "<img" not in rendered
