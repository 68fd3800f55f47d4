"""Peak memory of `rag ingest` on a long document and a long recording, against short ones.

    bench/fetch_corpus.sh && python bench/ingest_memory.py

Each ingest runs as its own `rag` process (lite profile, embedded store), and its peak
resident memory comes from the kernel's accounting for that process (`os.wait4`). If
ingestion streams, the 2,415-page R reference manual peaks near a 20-page excerpt of it,
and an hour of speech near a minute of it; if it loaded whole documents, the peaks would
grow with the length. The hour is the sample speech clip looped to 60 minutes and encoded
as MP3 with PyAV (made once under bench/data/). The first run exports the ONNX encoder
(once per install) and is reported on its own row; the others share that export.
Results go to bench/results/ingest_memory.json.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import pymupdf
from save_results import save_results

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CLIP = ROOT / "sample_data" / "gettysburg-address.mp3"


def _speech(seconds: float) -> np.ndarray:
    """The sample clip at 16 kHz mono, looped to `seconds`."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    with av.open(str(CLIP)) as container:
        pieces = [
            f.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for f in resampler.resample(frame)
        ]
    clip = np.concatenate(pieces)
    return np.resize(clip, int(seconds * 16000))


def recording(path: Path, seconds: float) -> Path:
    """An MP3 of `seconds` of looped speech (kept between runs)."""
    if path.exists():
        return path
    samples = _speech(seconds)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=16000, layout="mono")
        for start in range(0, len(samples), 16000 * 10):
            frame = av.AudioFrame.from_ndarray(
                samples[start : start + 16000 * 10].reshape(1, -1), format="s16", layout="mono"
            )
            frame.rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def excerpt(source: Path, pages: int, path: Path) -> Path:
    if not path.exists():
        with pymupdf.open(source) as doc, pymupdf.open() as part:
            part.insert_pdf(doc, to_page=pages - 1)
            part.save(path)
    return path


def peak_rss_mb(file: Path, data: Path, models: Path) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, summary line) of one `rag ingest` process."""
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data),
        "RAG_MODELS_DIR": str(models),
        "RAG_PROFILE": "lite",
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "rag", "ingest", str(file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise SystemExit(f"rag ingest {file} failed:\n{stderr[-2000:]}")
    summary = " ".join(stderr[stderr.rindex("Ingested") :].split())  # rich wraps it
    return usage.ru_maxrss / 1024, seconds, summary


def main() -> None:
    refman = DATA / "refman.pdf"
    if not refman.exists():
        raise SystemExit("bench/data/refman.pdf is missing: run bench/fetch_corpus.sh")
    cases = {
        "PDF, 20 pages, first run (exports the encoder)": excerpt(
            refman, 20, DATA / "refman-20.pdf"
        ),
        "PDF, 20 pages (excerpt)": excerpt(refman, 20, DATA / "refman-20.pdf"),
        "PDF, 500 pages (excerpt)": excerpt(refman, 500, DATA / "refman-500.pdf"),
        "PDF, 2,415 pages (R reference manual)": refman,
        "MP3, 1 minute": recording(DATA / "speech-1min.mp3", 60),
        "MP3, 15 minutes": recording(DATA / "speech-15min.mp3", 900),
        "MP3, 60 minutes": recording(DATA / "speech-60min.mp3", 3600),
    }
    rows = []
    models = Path(tempfile.mkdtemp(prefix="mmrag-bench-models-"))
    for name, file in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            peak, seconds, summary = peak_rss_mb(file, Path(tmp), models)
        rows.append({"case": name, "peak_rss_mb": peak, "seconds": seconds, "summary": summary})
        print(json.dumps(rows[-1]), file=sys.stderr)
    print("| input | peak RSS MB | time s | rag's summary |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['peak_rss_mb']:.0f} | {r['seconds']:.0f} | {r['summary']} |")
    save_results("ingest_memory", rows)
    shutil.rmtree(models)


if __name__ == "__main__":
    main()
