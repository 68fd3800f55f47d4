"""Office files through LibreOffice headless: a real deck with notes, a DOCX, and bad ones."""

import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import SAMPLE_DATA

from ingest.formats import sniff
from rag import RAG
from rag.core.records import Modality

DECK = SAMPLE_DATA / "phylogeny-talk.pptx"


def test_a_slide_deck_becomes_slide_pages_with_their_notes(rag: RAG) -> None:
    report = rag.ingest([DECK], ["talk"])
    assert report.outcomes[0].status == "ingested", report.outcomes[0].reason
    assert report.outcomes[0].units == 4
    hits = rag.search("every person has two haplotypes, one from each parent", 1)
    top = hits[0]
    assert top.source == DECK.name and top.page == 2 and top.modality is Modality.PAGE
    assert "Speaker notes:" in top.page_text and "haplotyping" in top.page_text
    assert top.image_path is not None and top.image_path.exists()
    assert rag.documents()[0].title == "phylogeny-talk"


@pytest.mark.parametrize(
    ("source", "target", "kind"),
    [("minutes.txt", "docx", "wordprocessingml.document"),
     ("minutes.txt", "odt", "opendocument.text"),
     ("minutes.csv", "xlsx", "spreadsheetml.sheet")],
)  # fmt: skip
def test_office_files_made_by_libreoffice_are_searchable(
    rag: RAG, tmp_path: Path, source: str, target: str, kind: str
) -> None:
    text = tmp_path / source
    text.write_text("Quarterly minutes\n\nThe cormorant census counted 412 nesting pairs.\n")
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path),
            str(text),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = tmp_path / f"minutes.{target}"
    assert sniff(converted).endswith(kind)
    report = rag.ingest([converted])
    assert report.outcomes[0].status == "ingested", report.outcomes[0].reason
    assert "412 nesting pairs" in rag.search("cormorant census", 1)[0].page_text


def test_a_zip_bomb_dressed_as_docx_is_refused_unopened(rag: RAG, tmp_path: Path) -> None:
    bomb = tmp_path / "report.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 50_000_000)
    report = rag.ingest([bomb, SAMPLE_DATA / "r-admin-excerpt.pdf"])
    failed, good = report.outcomes
    assert failed.status == "failed" and "zip bomb" in failed.reason
    assert good.status == "ingested"


def test_broken_office_files_fail_alone(rag: RAG, tmp_path: Path) -> None:
    cut = tmp_path / "cut.pptx"
    cut.write_bytes(DECK.read_bytes()[:5000])
    report = rag.ingest([cut])
    assert report.outcomes[0].status == "failed" and "\n" not in report.outcomes[0].reason


def test_without_libreoffice_the_error_says_how_to_install_it(
    rag: RAG, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    report = rag.ingest([DECK])
    assert report.outcomes[0].status == "failed"
    assert "apt-get install libreoffice" in report.outcomes[0].reason
