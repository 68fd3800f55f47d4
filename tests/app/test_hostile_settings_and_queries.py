"""Inputs that used to crash or mislead (issue: hostile input): a query that is not text,
an id prefix of LIKE wildcards, a data directory that cannot be one, non-finite settings,
and a .env in the current folder redirecting the generator."""

import json
import subprocess
from pathlib import Path

import pytest
from conftest import RAG_CLI, SAMPLE_PDFS
from typer.testing import CliRunner

from rag import RAG, QueryError, Settings
from rag.cli import app
from rag.core.errors import ConfigError, DocumentNotFoundError
from ui.backend import Backend
from ui.safe_text import as_text

runner = CliRunner()


def test_a_query_that_is_not_utf8_is_one_line_from_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "d"
    result = subprocess.run(
        [*RAG_CLI, "--data-dir", str(data), "search", b"x\xff\xfey"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: The query is not valid UTF-8 text (character 2); retype it."
    ]


def test_a_query_with_a_lone_surrogate_is_a_query_error_in_api_and_app(corpus: RAG) -> None:
    with pytest.raises(QueryError, match="not valid UTF-8"):
        corpus.search("zebra \udcff")
    message, rows, *_ = Backend(corpus).search("zebra \udcff")
    assert as_text("not valid UTF-8") in message and rows == []  # shown as escaped text


def test_like_wildcards_in_an_id_prefix_match_nothing(rag: RAG) -> None:
    rag.ingest([SAMPLE_PDFS[0]])
    for prefix in ("______", "%%%%%%", "_%_%_%"):
        with pytest.raises(DocumentNotFoundError):
            rag.delete(prefix)
    assert len(rag.documents()) == 1
    assert rag.delete(rag.documents()[0].id[:8]).source == SAMPLE_PDFS[0].name


def test_a_name_that_matches_several_documents_lists_them_and_deletes_nothing(
    rag: RAG, tmp_path: Path
) -> None:
    for folder, text in (("a", "Zebras migrate."), ("b", "Giraffes stay.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(f"# Notes\n\n{text}\n")
    rag.ingest([tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"])
    with pytest.raises(DocumentNotFoundError, match="matches several documents"):
        rag.delete("notes.md")
    assert len(rag.documents()) == 2


@pytest.mark.parametrize("where", ["file", "under a file", "/proc"])
def test_a_data_directory_that_cannot_be_one_is_one_line(tmp_path: Path, where: str) -> None:
    (tmp_path / "f").write_text("x")
    data = {"file": tmp_path / "f", "under a file": tmp_path / "f" / "d", "/proc": "/proc/x"}
    result = runner.invoke(app, ["--data-dir", str(data[where]), "status"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "RAG_DATA_DIR" in lines[0], result.output


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "2", "-3"])
def test_non_finite_or_out_of_range_floats_are_refused(monkeypatch, value: str) -> None:
    monkeypatch.setenv("RAG_MIN_RELEVANCE", value)
    with pytest.raises(ConfigError, match="RAG_MIN_RELEVANCE"):
        Settings.load()
    monkeypatch.delenv("RAG_MIN_RELEVANCE")
    monkeypatch.setenv("RAG_GENERATOR_TIMEOUT", "inf" if value == "nan" else "nan")
    with pytest.raises(ConfigError, match="RAG_GENERATOR_TIMEOUT"):
        Settings.load()


def test_a_dotenv_in_the_current_folder_is_never_read(tmp_path: Path, monkeypatch) -> None:
    downloaded = tmp_path / "downloaded"
    downloaded.mkdir()
    (downloaded / ".env").write_text("RAG_GENERATOR_URL=http://evil.example/v1\n")
    monkeypatch.chdir(downloaded)
    settings = Settings.load()
    assert settings.generator_url is None and settings.env_file is None
    status = runner.invoke(app, ["status", "--json"])
    assert json.loads(status.stdout)["settings_file"] is None


def test_the_data_directorys_dotenv_or_an_explicit_one_is_read_and_named(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".env").write_text("RAG_TOP_K=9\n")
    status = runner.invoke(app, ["--data-dir", str(data), "status", "--json"])
    assert json.loads(status.stdout)["settings_file"] == str(data / ".env")
    assert Settings.load(data_dir=data).top_k == 9
    chosen = tmp_path / "team.env"
    chosen.write_text("RAG_TOP_K=3\n")
    explicit = runner.invoke(app, ["--env-file", str(chosen), "--data-dir", str(data), "status"])
    assert f"settings_file: {chosen}" in explicit.output.replace("  ", " ").replace("  ", " ")
    assert Settings.load(data_dir=data, env_file=chosen).top_k == 3
    missing = runner.invoke(app, ["--env-file", str(tmp_path / "none.env"), "status"])
    assert missing.exit_code == 1 and "RAG_ENV_FILE" in missing.output
