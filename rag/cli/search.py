"""`rag search` and `rag ask`: hits as a table or JSON, answers streamed with sources."""

import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rag.cli.common import FILTER_OPTION, err, fail, open_rag, out
from rag.core.errors import RagError
from rag.core.records import Hit

NOT_FOUND = "Nothing in the documents matches (best similarity below the relevance threshold)."


def search(
    query: Annotated[
        str, typer.Argument(help="What to look for (may be empty with --image).")
    ] = "",
    image: Annotated[
        Path | None, typer.Option("--image", help="Search by this image (qwen3-vl profile).")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    filters: Annotated[list[str] | None, FILTER_OPTION] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each retriever's rank and score per hit.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Search the documents. Example: rag search "install packages" --filter tag=manual -k 3"""
    with open_rag() as rag:
        try:
            where = rag.filters(filters or [])
            hits = rag.search(query, top_k, where, image=image, explain=explain)
        except RagError as exc:
            raise fail(exc) from exc
    if as_json:
        out.print_json(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
    elif hits:
        table = Table("#", "score", "source", "page", "text", show_lines=explain)
        for i, h in enumerate(hits, 1):
            text = h.explanation.highlighted if h.explanation else h.text
            snippet = escape(text[:240] + ("…" if len(text) > 240 else ""))
            if h.explanation:
                snippet = re.sub(r"\*\*(.+?)\*\*", r"[bold yellow]\1[/bold yellow]", snippet)
                snippet += "\n[dim]" + escape(_explain_line(h)) + "[/dim]"
            table.add_row(str(i), f"{h.score:.4f}", escape(h.source), str(h.page), snippet)
        out.print(table)
    err.print(f"{len(hits)} hit(s)." if hits else NOT_FOUND)


def _explain_line(hit: Hit) -> str:
    e = hit.explanation
    assert e is not None
    parts = [
        f"{name}: rank {rank} ({score:.3f})" if rank else f"{name}: not in its top list"
        for name, (rank, score) in e.retrievers.items()
    ]
    parts.append(f"fused {e.fused_score:.4f}")
    if e.rerank_score is not None:
        parts.append(f"reranked {e.rerank_score:.3f}")
    if e.relevance is not None:
        parts.append(f"similarity {e.relevance:.3f}")
    return "; ".join(parts)


def ask(
    question: Annotated[str, typer.Argument(help="A question about the documents.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    filters: Annotated[list[str] | None, FILTER_OPTION] = None,
) -> None:
    """Answer with cited pages, streaming. Example: rag ask "How do I set up a repository?" """
    with open_rag() as rag:
        try:
            stream = rag.ask_stream(question, top_k=top_k, where=rag.filters(filters or []))
            streamed = "".join(_echo(piece) for piece in stream)
        except RagError as exc:
            raise fail(exc) from exc
    answer = stream.answer
    assert answer is not None
    if answer.text != streamed:  # the generator failed mid-way: show the fallback
        err.print(f"\n[yellow]{escape(answer.notice or '')}[/yellow]")
        out.print(escape(answer.text))
    else:
        out.print()
    if answer.citations:
        out.print("\nSources:")
        for c in answer.citations:
            out.print(f"  {escape(c.label())}")
    if answer.notice and answer.text == streamed:
        err.print(f"[yellow]{escape(answer.notice)}[/yellow]")
    kind = "generated" if answer.generated else "extractive"
    err.print(f"Answer ({kind}) cites {len(answer.citations)} source(s).")


def _echo(piece: str) -> str:
    out.print(escape(piece), end="")
    return piece
