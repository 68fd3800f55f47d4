"""Filters, explanations, 'not in the documents', and the evaluation harness."""

import json
import time
from pathlib import Path

import pytest
from conftest import QUESTIONS, SAMPLE_PDFS
from typer.testing import CliRunner

from rag import RAG
from rag.app.evaluate import Outcome, Question, _ndcg, calibrate, scores
from rag.cli import app
from rag.core.errors import QueryError
from rag.core.records import SearchFilter

runner = CliRunner()
R_ADMIN = "r-admin-excerpt.pdf"


def test_a_document_filter_keeps_only_that_document(corpus: RAG) -> None:
    where = corpus.filters([f"doc={R_ADMIN}"])
    hits = corpus.search(
        "Which environment variables set the language of messages?", top_k=5, where=where
    )
    assert hits and {h.source for h in hits} == {R_ADMIN}


def test_filters_combine_tags_modality_and_dates(rag: RAG) -> None:
    rag.ingest([SAMPLE_PDFS[0]], tags=["talk"])
    between = time.time()
    time.sleep(0.01)
    rag.ingest([SAMPLE_PDFS[1]], tags=["manual", "plots"])
    rag.settings.min_relevance = -1.0  # this test is about filters, not relevance
    rag.settings.top_k = 40
    query = "plot"
    assert {h.source for h in rag.search(query, where=rag.filters(["tag=talk"]))} == {
        SAMPLE_PDFS[0].name
    }
    assert {h.source for h in rag.search(query, where=rag.filters(["tag=talk", "tag=plots"]))} == {
        SAMPLE_PDFS[0].name,
        SAMPLE_PDFS[1].name,
    }
    after = rag.search(query, where=SearchFilter(added_after=between, modalities=["page"]))
    assert after and {h.source for h in after} == {SAMPLE_PDFS[1].name}
    assert rag.search(query, where=rag.filters(["modality=audio"])) == []
    assert rag.search(query, where=rag.filters(["before=2000-01-01"])) == []


@pytest.mark.parametrize("bad", ["tag", "colour=red", "modality=smell", "after=yesterday"])
def test_bad_filters_are_clear_errors(rag: RAG, bad: str) -> None:
    with pytest.raises(QueryError):
        rag.filters([bad])


def test_an_explanation_gives_each_retrievers_rank_and_highlights_terms(corpus: RAG) -> None:
    hit = corpus.search("install packages personal library", top_k=1, explain=True)[0]
    e = hit.explanation
    assert set(e.retrievers) == {"text", "sparse"}
    assert all(rank is None or rank >= 1 for rank, _ in e.retrievers.values())
    assert e.fused_score == hit.fused_score and e.relevance == hit.relevance
    assert "librar" in " ".join(e.matched_terms) and "**" in e.highlighted
    assert "explanation" in hit.to_json()


def test_a_question_the_documents_do_not_answer_gets_nothing(corpus: RAG) -> None:
    unanswerable = [q for q in QUESTIONS if q["kind"] == "unanswerable"]
    refused = [q for q in unanswerable if corpus.search(q["question"]) == []]
    assert len(refused) >= 2
    answer = corpus.ask(refused[0]["question"])
    assert answer.citations == [] and "Nothing in the ingested documents" in answer.text
    assert corpus.search("How do I install R packages into a personal library?")


def test_metrics_on_known_rankings() -> None:
    q = Question("q", "a.pdf", [2], "text")
    first = Outcome(q, [("a.pdf", 2), ("a.pdf", 3)], 1, 0.9, 0.01)
    third = Outcome(q, [("x", 1), ("x", 2), ("a.pdf", 2)], 3, 0.5, 0.01)
    missed = Outcome(q, [("x", 1)], None, 0.2, 0.01)
    m = scores([first, third, missed])
    assert m["recall@1"] == pytest.approx(1 / 3) and m["recall@5"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)
    assert _ndcg(third.ranked, q) == pytest.approx(0.5)
    none = Question("u", None, [], "unanswerable")
    cut = calibrate([first, third, Outcome(none, [], None, 0.3, 0.0)])
    assert cut["threshold"] > 0.3 and cut["unanswerable_refused"] == 1


def test_rag_eval_writes_json_and_markdown_side_by_side(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    subset = [q for q in QUESTIONS if q["source"] in (None, R_ADMIN)][:10]
    questions.write_text("\n".join(json.dumps(q) for q in subset))
    out = tmp_path / "results"
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(tmp_path / "d"),
            "eval",
            str(questions),
            "--docs",
            str(SAMPLE_PDFS[2]),
            "--variant",
            "hybrid-rrf",
            "--variant",
            "sparse",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summaries = json.loads((out / "results.json").read_text())
    assert [s["variant"] for s in summaries] == ["hybrid-rrf", "sparse"]
    for s in summaries:
        assert 0 <= s["overall"]["recall@5"] <= 1 and s["latency_ms"]["p95"] > 0
    table = (out / "results.md").read_text()
    assert "| lite | hybrid-rrf |" in table and "| lite | sparse |" in table


@pytest.mark.slow
def test_hybrid_beats_dense_only_and_sparse_only_on_the_shipped_set(tmp_path: Path) -> None:
    from rag import Settings
    from rag.app.evaluate import evaluate, load_questions
    from rag.core.config import Profile

    questions = load_questions(Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl")
    runs = {
        s["variant"]: s["overall"]
        for s in evaluate(
            questions,
            SAMPLE_PDFS,
            [Profile.LITE],
            ["hybrid-rrf", "dense", "sparse"],
            Settings(),
            tmp_path,
        )
    }
    for single in ("dense", "sparse"):
        assert runs["hybrid-rrf"]["recall@5"] > runs[single]["recall@5"], runs
        assert runs["hybrid-rrf"]["mrr@10"] > runs[single]["mrr@10"], runs
    text = [q for q in questions if q.kind == "text"]
    assert len(questions) >= 40 and len(text) >= 20
