"""The public surface is exactly `rag.__all__`, and the README's commands stay true."""

import re
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parent.parent


def test_public_surface_is_exactly_all() -> None:
    assert sorted(rag.__all__) == sorted(
        [
            "RAG",
            "Answer",
            "Citation",
            "Document",
            "Hit",
            "IngestReport",
            "Profile",
            "RagError",
            "Settings",
        ]
    )
    for name in rag.__all__:
        assert getattr(rag, name)


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)\n(.*?)```", readme, re.S)
    assert block, "README must open with a code block of two commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    run, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()
    assert "rag ingest sample_data" in run and "rag ask" in run


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in rag.Settings.model_fields:
        assert f"RAG_{name.upper()}" in readme, name
