"""The bottom layer's records: the point payload round-trips, and settings keep their
flat RAG_* names while being declared by area."""

import math

import pytest

from rag.core.config import AREAS, Settings
from rag.core.errors import ConfigError
from rag.core.payload import INDEXED_FIELDS, UnitPayload, point_id
from rag.core.records import Document, Modality, Status, Unit


def test_a_payload_written_for_a_unit_reads_back_the_same() -> None:
    doc = Document("d" * 64, "talk.mp3", "/x/talk.mp3", "audio/mpeg", "Talk", Status.PENDING,
                   tags=["t"], added=5.0)  # fmt: skip
    unit = Unit(3, Modality.AUDIO, "four score", start_s=60.0, end_s=90.0)
    payload = UnitPayload.of(doc, unit, "ab.jpg").to_payload()
    assert payload["page"] == 4 and payload["modality"] == "audio"
    assert set(INDEXED_FIELDS) <= set(payload)
    back = UnitPayload.from_payload(payload)
    assert back == UnitPayload.of(doc, unit, "ab.jpg")
    assert back.to_unit().start_s == 60.0 and back.to_unit().image is None


def test_point_ids_are_deterministic_per_document_and_unit() -> None:
    assert point_id("a", 1) == point_id("a", 1) != point_id("a", 2) != point_id("b", 1)


def test_every_setting_belongs_to_exactly_one_area() -> None:
    names = [n for area in AREAS for n in area.model_fields]
    assert len(names) == len(set(names)) == len(Settings.model_fields)


def test_settings_read_flat_rag_names_whatever_their_area(monkeypatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("RAG_QDRANT_SHARDS", "2")
    settings = Settings.load()
    assert settings.top_k == 7 and settings.qdrant_shards == 2
    assert math.isclose(Settings.load(settings, sparse_weight=0.5).sparse_weight, 0.5)


def test_a_bad_setting_is_one_line_naming_its_variable() -> None:
    with pytest.raises(ConfigError, match="RAG_TOP_K"):
        Settings.load(top_k=0)
