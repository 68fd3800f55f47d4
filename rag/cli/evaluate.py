"""`rag eval`: retrieval quality of profiles and fusion variants, side by side."""

import json
from pathlib import Path
from typing import Annotated

import typer

from rag.app.evaluate import VARIANTS, evaluate, load_questions, markdown
from rag.cli.common import err, fail, out, settings
from rag.core.config import Profile
from rag.core.errors import RagError


def evaluate_command(
    questions: Annotated[Path, typer.Argument(help="JSON lines: question, source, pages, kind.")],
    docs: Annotated[
        list[Path], typer.Option("--docs", help="Documents the questions are about.")
    ] = [Path("sample_data")],  # noqa: B006 (typer reads the default, never mutates it)
    profiles: Annotated[
        list[Profile] | None, typer.Option("--profile", help="Profile to run (repeatable).")
    ] = None,
    variants: Annotated[
        list[str] | None,
        typer.Option("--variant", help="hybrid-rrf, hybrid-dbsf, dense, sparse (repeatable)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where results go.")] = Path(
        "eval/results"
    ),
) -> None:
    """Measure retrieval quality side by side. Example: rag eval eval/questions.jsonl"""
    chosen = variants or list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise fail(RagError(f"Unknown variant(s) {unknown}; use {', '.join(VARIANTS)}."))
    s = settings()
    try:
        items = load_questions(questions)
        with err.status(f"Evaluating {len(items)} questions…"):
            summaries = evaluate(
                items,
                [p for d in docs for p in (sorted(d.glob("*.pdf")) if d.is_dir() else [d])],
                profiles or [Profile.LITE],
                chosen,
                s,
                s.data_dir / "eval",
            )
    except RagError as exc:
        raise fail(exc) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(summaries, indent=2))
    table = markdown(summaries)
    (out_dir / "results.md").write_text(table)
    out.print(table)
    err.print(
        f"{len(items)} questions x {len(summaries)} runs; written to {out_dir}/results.{{json,md}}."
    )
