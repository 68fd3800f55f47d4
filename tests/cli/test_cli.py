"""The `rag` command line, driven as a user types it."""

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS
from typer.main import get_command
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_the_documented_commands_exist() -> None:
    assert {"ingest", "search", "ask", "list", "delete", "status"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_every_command_is_in_the_readme(command_names=COMMANDS) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for command in command_names:
        assert f"rag {command}" in readme, command


def test_ingest_search_ask_list_delete_status(tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path)]
    result = runner.invoke(app, [*base, "ingest", str(SAMPLE_PDFS[0]), "--tag", "talk"])
    assert result.exit_code == 0, result.output
    assert "Ingested 1 document(s)" in result.output

    result = runner.invoke(app, [*base, "search", "perfect phylogeny", "--top-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert {"source", "page", "score", "modality", "text"} <= set(hits[0])
    assert hits[0]["source"] == SAMPLE_PDFS[0].name and isinstance(hits[0]["page"], int)

    result = runner.invoke(app, [*base, "ask", "What is a perfect phylogeny?"])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and "Sources:" in result.stdout
    assert "No generator is configured" in result.output

    result = runner.invoke(app, [*base, "list", "--json"])
    docs = json.loads(result.stdout)
    assert [(d["source"], d["status"], d["tags"]) for d in docs] == [
        (SAMPLE_PDFS[0].name, "done", ["talk"])
    ]

    result = runner.invoke(app, [*base, "status", "--json"])
    info = json.loads(result.stdout)
    assert info["points"] == docs[0]["units"] and info["profile"] == "lite"

    result = runner.invoke(app, [*base, "delete", SAMPLE_PDFS[0].name])
    assert result.exit_code == 0 and "Deleted" in result.output
    assert json.loads(runner.invoke(app, [*base, "status", "--json"]).stdout)["points"] == 0


def test_errors_are_one_red_line_and_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "delete", "nothing.pdf"])
    assert result.exit_code == 1
    assert "No document matches 'nothing.pdf'" in result.output
    assert "Traceback" not in result.output


def test_a_model_that_cannot_load_is_a_clear_error(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "--profile", "qwen3-vl", "search", "x"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "Cannot load the visual embedder 'Qwen/Qwen3-VL-Embedding-2B'" in result.output
    assert "Traceback" not in result.output


def test_a_bad_setting_is_one_line_naming_its_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "abc")
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "list"])
    assert result.exit_code == 1
    assert "Invalid setting(s): RAG_TOP_K" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"question": "x"\n', "q.jsonl:1: not a question line"), ("\n", "holds no questions")],
)
def test_a_bad_questions_file_is_a_clear_error(tmp_path: Path, content, message) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(content)
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "eval", str(questions)])
    assert result.exit_code == 1 and message in result.output


def test_reindex_re_embeds_in_place_and_search_still_works(tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, [*base, "ingest", str(SAMPLE_PDFS[0])]).exit_code == 0
    result = runner.invoke(app, [*base, "reindex"])
    assert result.exit_code == 0, result.output
    assert "Re-indexed 26 units" in result.output and "now using pages@" in result.output
    result = runner.invoke(app, [*base, "search", "perfect phylogeny", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["source"] == SAMPLE_PDFS[0].name
    assert [p.name.split("@")[0] for p in (tmp_path / "store").iterdir()] == ["pages"]


def test_watch_refuses_a_zero_interval(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path), "ingest", "--watch", str(tmp_path), "--interval", "0"]
    )
    assert result.exit_code == 2 and "interval" in result.output
