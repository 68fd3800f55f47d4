"""Audio and video: real recordings (sample_data), PyAV decoding, whisper tiny.en transcripts."""

import sys
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SAMPLE_DATA as SAMPLE
from PIL import Image

from ingest.formats import sniff
from ingest.loaders.media import Speech, pcm_chunks, windows
from rag import RAG, Settings
from rag.core.records import Modality
from ui.backend import Backend

CLIP = SAMPLE / "gettysburg-address.mp3"
TALK = SAMPLE / "phylogeny-talk.mp4"


@pytest.fixture(scope="module")
def media_rag(tmp_path_factory: pytest.TempPathFactory, embedder):
    data = tmp_path_factory.mktemp("media")
    rag = RAG(Settings(data_dir=data, video_frame_interval_s=8), embedder=embedder)
    report = rag.ingest([CLIP, TALK], ["recordings"])
    assert [o.status for o in report.outcomes] == ["ingested", "ingested"], report.outcomes
    yield rag
    rag.close()


def test_speech_becomes_time_stamped_transcript_units(media_rag: RAG) -> None:
    hits = media_rag.search("four score and seven years ago our fathers", 3)
    top = hits[0]
    assert top.source == CLIP.name and top.modality is Modality.AUDIO
    assert top.start_s is not None and 0 <= top.start_s < top.end_s <= 22
    assert "nation" in top.text.lower() and "civil war" in top.page_text.lower()


def test_video_keyframes_carry_their_time_range_and_speech(media_rag: RAG) -> None:
    hits = media_rag.search(
        "why is haplotyping important", 10, media_rag.filters(["modality=video"])
    )
    assert hits and {h.source for h in hits} == {TALK.name}
    ranges = sorted((h.start_s, h.end_s) for h in hits)
    assert ranges[0][0] == 0 and all(a[1] == b[0] for a, b in pairwise(ranges))
    assert ranges[-1][1] == pytest.approx(26.8, abs=0.5)
    haplotyping = next(h for h in hits if "haplotyp" in h.page_text.lower())
    assert haplotyping.image_path and Image.open(haplotyping.image_path).width == 640
    # slides change at about 6.4 s and 16.6 s: scene changes start keyframes before the 8 s tick
    assert any(abs(a - 6.4) < 0.5 for a, _ in ranges)


def test_a_cited_recording_opens_as_a_clip_of_its_range(media_rag: RAG) -> None:
    backend = Backend(media_rag)
    video_hit = media_rag.search("haplotyping", 1, media_rag.filters(["modality=video"]))[0]
    image, text, sound, video = backend.view(video_hit, "haplotyping")
    assert image is not None and sound is None and "s_" not in text
    with av.open(video) as clip:
        seconds = clip.duration / 1e6
        assert {s.type for s in clip.streams} == {"video", "audio"}
    assert seconds == pytest.approx(video_hit.end_s - video_hit.start_s, abs=1.0)
    question = "we are engaged in a great civil war"
    audio_hit = media_rag.search(question, 1, media_rag.filters(["modality=audio"]))[0]
    image, _, sound, video = backend.view(audio_hit, "civil war")
    assert image is None and video is None and Path(sound).stat().st_size > 10_000


def test_long_audio_is_decoded_in_bounded_chunks() -> None:
    whole = np.concatenate([s for _, s in pcm_chunks(CLIP)])
    chunks = list(pcm_chunks(CLIP, chunk_s=5))
    assert len(chunks) >= 4 and max(len(s) for _, s in chunks) < 6 * 16_000
    assert sum(len(s) for _, s in chunks) == len(whole)
    assert [round(start, 1) for start, _ in chunks[:2]] == [0.0, round(len(chunks[0][1]) / 16e3, 1)]


def test_transcript_windows_keep_their_bounds() -> None:
    speech = [Speech(float(i * 10), float(i * 10 + 9), f"s{i}") for i in range(7)]
    assert [(a, b) for a, b, _ in windows(iter(speech), 30)] == [(0, 29), (30, 59), (60, 69)]


def test_media_types_are_sniffed_from_content(tmp_path: Path) -> None:
    assert sniff(CLIP) == "audio/mpeg" and sniff(TALK) == "video/mp4"
    disguised = tmp_path / "talk.pdf"
    disguised.write_bytes(TALK.read_bytes())
    assert sniff(disguised) == "video/mp4"
    frame_only = tmp_path / "x.bin"
    frame_only.write_bytes(b"\xff\xfb\x90\x00" + bytes(400))
    assert sniff(frame_only) == "audio/mpeg"


def test_broken_recordings_fail_alone_with_a_reason(rag: RAG, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(TALK.read_bytes()[:3000])
    garbage = tmp_path / "noise.mp3"
    garbage.write_bytes(b"ID3" + bytes(range(256)) * 40)
    report = rag.ingest([cut, garbage, CLIP])
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name[CLIP.name].status == "ingested"
    for name in ("cut.mp4", "noise.mp3"):
        assert by_name[name].status == "failed" and "\n" not in by_name[name].reason
    assert rag.services.store().count() == by_name[CLIP.name].units


def test_a_missing_media_extra_names_it(rag: RAG, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    report = rag.ingest([CLIP])
    assert report.outcomes[0].status == "failed"
    assert "pip install 'mmrag[media]'" in report.outcomes[0].reason


def test_overlong_recordings_are_refused(rag: RAG) -> None:
    rag.settings.max_media_minutes = 0.1
    report = rag.ingest([CLIP])
    assert "RAG_MAX_MEDIA_MINUTES" in report.outcomes[0].reason


def _transcode(source: Path, target: Path, codec: str) -> Path:
    """The sample speech in another container and codec, written by PyAV (FFmpeg)."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream(codec, rate=16_000, layout="mono")
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=16_000)
        for frame in [*src.decode(audio=0), None]:
            for out in resampler.resample(frame) if frame is not None else [None]:
                for packet in stream.encode(out):
                    dst.mux(packet)
    return target


@pytest.mark.parametrize(
    ("name", "codec"),
    [("speech.wav", "pcm_s16le"), ("speech.flac", "flac"), ("speech.ogg", "libopus"),
     ("speech.m4a", "aac")],
)  # fmt: skip
def test_every_audio_container_is_transcribed(rag: RAG, tmp_path: Path, name, codec) -> None:
    clip = _transcode(CLIP, tmp_path / name, codec)
    report = rag.ingest([clip])
    assert report.outcomes[0].status == "ingested", report.outcomes[0].reason
    assert "nation" in rag.search("conceived in liberty", 1)[0].page_text.lower()


def test_a_matroska_video_is_read_like_mp4(rag: RAG, tmp_path: Path) -> None:
    mkv = tmp_path / "talk.mkv"
    with av.open(str(TALK)) as src, av.open(str(mkv), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    assert sniff(mkv) == "video/x-matroska"
    report = rag.ingest([mkv])
    assert report.outcomes[0].status == "ingested" and report.outcomes[0].units >= 3


def test_worker_processes_decode_to_the_same_units(
    media_rag: RAG, tmp_path: Path, embedder
) -> None:
    settings = Settings(data_dir=tmp_path / "w", video_frame_interval_s=8, render_workers=2)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(CLIP.read_bytes()[: CLIP.stat().st_size // 2] + bytes(range(256)) * 64)
    with RAG(settings, embedder=embedder) as workers:
        report = workers.ingest([CLIP, TALK, cut])
        assert [o.status for o in report.outcomes[:2]] == ["ingested", "ingested"]

        def units(rag: RAG) -> list[tuple]:
            store = rag.services.store(with_embedder=False)
            rows = [p for batch in store.scroll() for _, p in batch if p["source"] != cut.name]
            return sorted(
                (p["source"], p["unit"], p["start_s"], p["end_s"], p["text"]) for p in rows
            )

        assert units(workers) == units(media_rag)
        assert report.outcomes[2].status in ("ingested", "failed")  # cut mid-stream: either way
        assert "\n" not in (report.outcomes[2].reason or "")
