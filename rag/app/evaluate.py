"""Retrieval evaluation: the same questions through each profile and retrieval variant.

Questions are JSON lines: {"question", "source" (file name, null if unanswerable),
"pages" (1-based gold pages), "kind" ("text", "visual", "unanswerable", ...)}. A hit is
relevant when its source and page are gold. Metrics: recall@1/5/10 (a gold page in the
top k), MRR@10, nDCG@10 (binary gain), per kind and overall, search latency p50/p95,
and the "not in the documents" threshold: the dense-similarity cut-off that best
separates answerable from unanswerable questions, with how many of each it gets right.
"""

import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.app.facade import RAG
from rag.core.config import Fusion, Profile, Retrievers, Settings
from rag.core.errors import ConfigError, first_line

VARIANTS: dict[str, tuple[Retrievers, Fusion]] = {
    "hybrid-rrf": (Retrievers.HYBRID, Fusion.RRF),
    "hybrid-dbsf": (Retrievers.HYBRID, Fusion.DBSF),
    "dense": (Retrievers.DENSE, Fusion.RRF),
    "sparse": (Retrievers.SPARSE, Fusion.RRF),
}
UNANSWERABLE = "unanswerable"


@dataclass
class Question:
    question: str
    source: str | None
    pages: list[int]
    kind: str


@dataclass
class Outcome:
    """One question's result: the gold's 1-based rank in the top 10 (None if absent)."""

    question: Question
    ranked: list[tuple[str, int]]
    rank: int | None
    top_relevance: float | None
    seconds: float


@dataclass
class RunResult:
    profile: str
    variant: str
    outcomes: list[Outcome] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    """Questions from JSON lines; a bad file or line is a `ConfigError` naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the questions file {path} ({first_line(exc)}).") from exc
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            questions.append(
                Question(
                    str(r["question"]),
                    r.get("source"),
                    [int(p) for p in r.get("pages") or []],
                    r.get("kind", "text"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}:{number}: not a question line ({first_line(exc)}); expected JSON with"
                ' "question", "source", "pages", "kind".'
            ) from exc
    if not questions:
        raise ConfigError(f"{path} holds no questions.")
    return questions


def _ndcg(ranked: list[tuple[str, int]], q: Question, k: int = 10) -> float:
    gold = {(q.source, p) for p in q.pages}
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(ranked[:k]) if hit in gold)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal if ideal else 0.0


def scores(outcomes: list[Outcome]) -> dict[str, float]:
    """Ranking metrics over answerable questions."""
    ranked = [o for o in outcomes if o.question.kind != UNANSWERABLE]
    if not ranked:
        return {}
    ranks = [o.rank for o in ranked]
    return {
        "n": len(ranked),
        "recall@1": float(np.mean([r is not None and r <= 1 for r in ranks])),
        "recall@5": float(np.mean([r is not None and r <= 5 for r in ranks])),
        "recall@10": float(np.mean([r is not None and r <= 10 for r in ranks])),
        "mrr@10": float(np.mean([1 / r if r else 0.0 for r in ranks])),
        "ndcg@10": float(np.mean([_ndcg(o.ranked, o.question) for o in ranked])),
    }


def calibrate(outcomes: list[Outcome]) -> dict[str, Any]:
    """The threshold on the top hit's relevance that best separates (un)answerable questions."""
    answerable = [o.top_relevance for o in outcomes if o.question.kind != UNANSWERABLE]
    refused = [o.top_relevance for o in outcomes if o.question.kind == UNANSWERABLE]
    values = sorted(v for v in answerable + refused if v is not None)
    if not refused or not values:
        return {"threshold": None}
    best: tuple[int, float] = (-1, 0.0)
    for t in [values[0] - 1e-6, *values]:  # cut just at each observed value
        right = sum(v is not None and v >= t for v in answerable)
        right += sum(v is None or v < t for v in refused)
        if right > best[0]:
            best = (right, t)
    t = best[1]
    return {
        "threshold": round(t, 4),
        "answerable_kept": sum(v is not None and v >= t for v in answerable),
        "answerable": len(answerable),
        "unanswerable_refused": sum(v is None or v < t for v in refused),
        "unanswerable": len(refused),
    }


def summarize(run: RunResult) -> dict[str, Any]:
    kinds = sorted({o.question.kind for o in run.outcomes} - {UNANSWERABLE})
    latency = np.array([o.seconds for o in run.outcomes]) * 1e3
    return {
        "profile": run.profile,
        "variant": run.variant,
        "overall": scores(run.outcomes),
        "by_kind": {k: scores([o for o in run.outcomes if o.question.kind == k]) for k in kinds},
        "latency_ms": {
            "p50": float(np.percentile(latency, 50)),
            "p95": float(np.percentile(latency, 95)),
        },
        "not_in_documents": calibrate(run.outcomes),
        "misses": [
            o.question.question
            for o in run.outcomes
            if o.question.kind != UNANSWERABLE and (o.rank is None or o.rank > 5)
        ],
    }


def evaluate(
    questions: list[Question],
    docs: Iterable[Path],
    profiles: list[Profile],
    variants: list[str],
    base: Settings,
    work_dir: Path,
) -> list[dict[str, Any]]:
    """Ingest `docs` once per profile (cached in work_dir), then run every variant."""
    docs = list(docs)
    summaries = []
    for profile in profiles:
        for variant in variants:
            retrievers, fusion = VARIANTS[variant]
            settings = Settings.load(
                base,
                profile=profile,
                retrievers=retrievers,
                fusion=fusion,
                data_dir=work_dir / str(profile),
                min_relevance=-1.0,  # the lowest cosine: evaluation sees every hit
            )
            with RAG(settings) as rag:
                rag.ingest(docs)
                run = RunResult(str(profile), variant)
                for q in questions:
                    start = time.perf_counter()
                    hits = rag.search(q.question, top_k=10)
                    seconds = time.perf_counter() - start
                    ranked = [(h.source, h.page) for h in hits]
                    gold = {(q.source, p) for p in q.pages}
                    rank = next((i + 1 for i, h in enumerate(ranked) if h in gold), None)
                    top = max((h.relevance for h in hits if h.relevance is not None), default=None)
                    run.outcomes.append(Outcome(q, ranked, rank, top, seconds))
            summaries.append(summarize(run))
    return summaries


def markdown(summaries: list[dict[str, Any]]) -> str:
    """One table row per profile and variant; per-kind recall@5 and the threshold after it."""
    kinds = sorted({k for s in summaries for k in s["by_kind"]})
    head = ["profile", "variant", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]
    head += [f"R@5 {k}" for k in kinds] + ["p50 ms", "p95 ms", "not-in-docs threshold"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        o = s["overall"]
        nd = s["not_in_documents"]
        cut = (
            "-"
            if nd["threshold"] is None
            else (
                f"{nd['threshold']} ({nd['answerable_kept']}/{nd['answerable']} kept, "
                f"{nd['unanswerable_refused']}/{nd['unanswerable']} refused)"
            )
        )
        row = [s["profile"], s["variant"]] + [
            f"{o[m]:.3f}" for m in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
        ]
        row += [f"{s['by_kind'][k]['recall@5']:.3f}" if k in s["by_kind"] else "-" for k in kinds]
        row += [f"{s['latency_ms']['p50']:.0f}", f"{s['latency_ms']['p95']:.0f}", cut]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
