"""Cut the cited time range out of a recording, so a player starts where the answer's words were.

Browsers' players (and Gradio's) have no start-time parameter; a short clip of the range
is the portable way. Video becomes H.264 + AAC MP4, audio a 16 kHz mono WAV.
"""

import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

from ingest.loaders.media import RATE, _av, pcm_chunks

MIN_CLIP_S = 8.0  # a cited moment needs context: "27-27 s" once played 0.1 s


def clip_range(start: float, end: float, min_s: float = MIN_CLIP_S) -> tuple[float, float]:
    """The range to play for a cited [start, end]: at least `min_s` long, centred on the
    cited moment, never before 0."""
    if end - start >= min_s:
        return start, end
    begin = max(0.0, (start + end) / 2 - min_s / 2)
    return begin, begin + min_s


def audio_clip(source: Path, start: float, end: float, out: Path) -> Path:
    """The range [start, end] seconds of the source's audio as a WAV file."""
    pcm = _range(source, start, end)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(pcm, -1, 1) * 32767).astype(np.int16).tobytes())
    return out


def video_clip(source: Path, start: float, end: float, out: Path) -> Path:
    """The range [start, end] seconds of the source as an MP4 (picture and sound)."""
    av = _av()
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        fps = 10
        video_in = src.streams.video[0]
        video = dst.add_stream("libx264", rate=fps)
        video.width = video_in.codec_context.width // 2 * 2
        video.height = video_in.codec_context.height // 2 * 2
        video.pix_fmt = "yuv420p"
        audio = dst.add_stream("aac", rate=RATE, layout="mono") if src.streams.audio else None
        shown = 0
        for frame in src.decode(video_in):
            t = float(frame.time or 0)
            if t > end:
                break
            while t >= start and start + shown / fps <= t:  # hold frames to a steady rate
                picture = frame.reformat(video.width, video.height, "yuv420p")
                picture.pts, picture.time_base = shown, Fraction(1, fps)
                shown += 1
                for packet in video.encode(picture):
                    dst.mux(packet)
        for packet in video.encode(None):
            dst.mux(packet)
        if audio is not None:
            samples = _range(source, start, end)
            step = 1024
            for i in range(0, len(samples), step):
                frame = av.AudioFrame.from_ndarray(
                    samples[i : i + step].reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate, frame.pts = RATE, i
                for packet in audio.encode(frame):
                    dst.mux(packet)
            for packet in audio.encode(None):
                dst.mux(packet)
    return out


def _range(source: Path, start: float, end: float) -> np.ndarray:
    parts = []
    for offset, samples in pcm_chunks(source, chunk_s=60):
        lo, hi = int((start - offset) * RATE), int((end - offset) * RATE)
        if hi > 0 and lo < len(samples):
            parts.append(samples[max(lo, 0) : max(hi, 0)])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
