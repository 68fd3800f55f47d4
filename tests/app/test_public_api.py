"""The public surface is exactly `rag.__all__`, and the README's commands stay true."""

import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[2]


def test_public_surface_is_exactly_all() -> None:
    assert sorted(rag.__all__) == sorted(
        [
            "RAG",
            "Answer",
            "AnswerStream",
            "BackupManifest",
            "Citation",
            "Discovered",
            "Document",
            "Embedder",
            "FileOutcome",
            "Hit",
            "IngestProgress",
            "IngestReport",
            "Profile",
            "QueryError",
            "RagError",
            "ReindexReport",
            "Reranker",
            "SearchFilter",
            "Settings",
            "StatusReport",
            "StoreBusyError",
        ]
    )
    for name in rag.__all__:
        assert getattr(rag, name)


def _our_types(hint: object) -> set[type]:
    """Classes of ours inside a type hint (unions and generics unpacked)."""
    if isinstance(hint, type) and hint.__module__.split(".")[0] in ("rag", "ingest"):
        return {hint}
    return set().union(*(_our_types(arg) for arg in typing.get_args(hint)))


def test_every_type_in_the_facades_signatures_is_exported() -> None:
    named: set[type] = set()
    for name, member in inspect.getmembers(rag.RAG, inspect.isfunction):
        if not name.startswith("_") or name == "__init__":
            for hint in typing.get_type_hints(member).values():
                named |= _our_types(hint)
    for _name, member in inspect.getmembers(rag.RAG, lambda m: isinstance(m, property)):
        named |= _our_types(typing.get_type_hints(member.fget).get("return"))
    exported = {getattr(rag, name) for name in rag.__all__}
    missing = {t.__name__ for t in named - exported}
    assert not missing, f"public signatures name unexported types: {sorted(missing)}"


def test_importing_the_bottom_layer_loads_no_upper_layer() -> None:
    code = (
        "import sys, rag.core.config, rag.core.records;"
        "print(sorted(m for m in sys.modules if m.startswith(('rag.app', 'ingest', 'torch'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


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
