"""The import contract in pyproject.toml keeps the layers one-way, and it has teeth: a
module of the bottom layer that imports the facade breaks it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_the_layers_contract_is_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_back_edge_breaks_the_contract(tmp_path: Path) -> None:
    for package in ("rag", "ingest", "ui"):
        shutil.copytree(ROOT / package, tmp_path / package)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "rag" / "core" / "back_edge.py").write_text("from rag.app.facade import RAG\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "rag.core.back_edge -> rag.app.facade" in result.stdout
