"""The docs stay true to the code: every module is in the architecture map, every setting
in the configuration table under its area, every link in the docs resolves."""

import re

from conftest import ROOT

from rag.core.config import AREAS, Settings

DOCS = ROOT / "docs"
AREA_TITLES = {
    "StoreSettings": "Store",
    "ModelSettings": "Models",
    "IngestSettings": "Ingestion",
    "SearchSettings": "Search",
    "GeneratorSettings": "Generator",
    "UiSettings": "Web app",
}


def _modules() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT))
        for package in ("rag", "ingest", "ui")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py" or p.parent.name in ("rag", "cli")  # these hold code
    )


def test_every_module_is_in_the_architecture_map() -> None:
    architecture = (DOCS / "architecture.md").read_text()
    missing = [m for m in _modules() if f"`{m}`" not in architecture]
    assert not missing, f"docs/architecture.md does not map {missing}"


def test_the_architecture_map_names_no_module_that_does_not_exist() -> None:
    architecture = (DOCS / "architecture.md").read_text()
    named = set(re.findall(r"`((?:rag|ingest|ui)/[\w/]+\.py)`", architecture))
    assert named - set(_modules()) == set()


def test_every_setting_is_in_the_configuration_table_under_its_area() -> None:
    text = (DOCS / "configuration.md").read_text()
    sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    for area in AREAS:
        section = sections[AREA_TITLES[area.__name__]]
        for name in area.model_fields:
            assert f"| `RAG_{name.upper()}` |" in section, (area.__name__, name)
    assert sum(len(a.model_fields) for a in AREAS) == len(Settings.model_fields)


def test_links_between_the_docs_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
