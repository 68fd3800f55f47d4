"""Our ingestion pipeline against a naive one, in one run, plus render and speech rates.

    bench/fetch_corpus.sh && python bench/ingest_vs_naive.py bench/data/pgfplots.pdf [--pages N]
        [--folder DIR]...

(Not bench/ingest.py: run as a script, a file of that name would shadow the `ingest`
package it measures.)

1. The PDF through `RAG.ingest` (pixels kept in memory, JPEG page store, batched
   embedding in ONNX Runtime with int8 weights, batched upserts), and again with the
   ONNX Runtime fp32 encoder and with the torch fp32 model, against a naive pipeline over
   the same pages in the same process: render, encode to PNG, write, read back, embed one
   page (the model as shipped: torch, fp32), upsert one point, sequentially.
   Ratio = ours / naive in pages/s.
2. Render-only pages/s (text layer + pixels), in this process and with worker processes,
   per core: what a GPU embedder would be fed.
3. Folders of mixed formats (default `sample_data/`: PDF, PPTX via LibreOffice, PNG scan
   with OCR, MP3, MP4, Markdown), the same four pipelines: units/s and ratios. Speech and
   OCR models are loaded before any timing.
   For every input, each pipeline's CPU-seconds (this process and its children) too, and
   `bound_ours`: naive seconds / (our CPU-seconds / cores), the ratio our pipeline would
   reach if it kept every core busy from start to end. No scheduling of the same work can
   beat it; only doing less work can.
4. Speech recognition real-time factor (transcription seconds / audio seconds).
Results go to bench/results/ingest.json.
"""

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import av
from ingest_pdf import _excerpt  # the same page excerpt as the stage benchmark
from PIL import Image
from save_results import save_results

from ingest.concurrency.ahead import loader_threads
from ingest.discover import discover
from ingest.formats import sniff
from ingest.loaders import ocr
from ingest.loaders.base import LoaderOptions
from ingest.loaders.media import transcribe
from ingest.loaders.pdf import open_pdf
from ingest.loaders.registry import open_document
from ingest.loading import read_missing_text
from rag import RAG, Settings
from rag.core.payload import point_id
from rag.models.profiles import build_embedder, choose_profile
from rag.models.sparse import Bm25Encoder
from rag.storage.vectors.base import PointRecord, Schema
from rag.storage.vectors.embedded import EdgeStore

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (LibreOffice, workers)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def ours(files: list[Path], data: Path, **settings: object) -> tuple[int, float, float]:
    """Units, seconds and CPU-seconds of `RAG.ingest` over `files`."""
    with RAG(Settings(data_dir=data, **settings)) as rag:
        rag.services.embedder  # noqa: B018 (load/export the model outside the timing, as naive does)
        cpu = cpu_seconds()
        started = time.perf_counter()
        report = rag.ingest(files)
        assert not report.failed, report.failed
        return report.units, time.perf_counter() - started, cpu_seconds() - cpu


def naive(files: list[Path], data: Path) -> tuple[int, float, float]:
    """The same loaders, one file and one unit at a time: page image to PNG on disk and
    back, the model as shipped (torch, fp32) on that one unit, one upsert per unit. As
    one stage runs at a time, speech recognition and OCR get every core."""
    cores = os.cpu_count() or 1  # one stage at a time, so each gets every core
    settings = Settings(
        data_dir=data, embed_runtime="torch", render_workers=1, asr_threads=cores, ocr_threads=cores
    )
    embedder = build_embedder(settings, choose_profile(settings))
    sparse = Bm25Encoder()
    store = EdgeStore(data / "store", Schema(embedder.id, embedder.dense_specs()))
    pngs = data / "png"
    pngs.mkdir(parents=True)
    count = 0
    cpu = cpu_seconds()
    started = time.perf_counter()
    for path in files:
        for unit in open_document(path, sniff(path), LoaderOptions.from_settings(settings)).units:
            png = pngs / f"{count}.png" if unit.image is not None else None
            if png is not None:
                unit.image.save(png)
                unit.image = Image.open(png).convert("RGB")
                read_missing_text([unit], cores)
            vectors = embedder.embed_units([unit])[0]
            payload = {"text": unit.text, "image": png.name if png else None}
            store.upsert(
                [
                    PointRecord(
                        point_id("naive", count),
                        vectors,
                        sparse.document(unit.text) if unit.text else None,
                        payload,
                    )
                ]
            )
            count += 1
    store.flush()
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    store.close()
    return count, seconds, cpu


def against_naive(files: list[Path], work: Path) -> dict[str, float]:
    """Units/s and CPU-seconds of our pipeline (default, ONNX fp32, torch fp32) and of the
    naive one, the ratios, and the bound on ours (see the module docstring)."""
    timed = {
        "ours": ours(files, work / "ours"),
        "ours_onnx_fp32": ours(files, work / "onnx-fp32", embed_int8=False),
        "ours_torch_fp32": ours(files, work / "torch-fp32", embed_runtime="torch"),
        "naive": naive(files, work / "naive"),
    }
    units = {n for n, _, _ in timed.values()}
    assert len(units) == 1, timed  # every pipeline stored the same units
    out: dict[str, float] = {"units": units.pop()}
    out |= {f"{name}_units_per_s": round(n / s, 2) for name, (n, s, _) in timed.items()}
    out |= {f"{name}_cpu_s": round(cpu, 2) for name, (_, _, cpu) in timed.items()}
    naive_s = timed["naive"][1]
    out |= {
        f"ratio_{name}": round(naive_s / s, 2)
        for name, (_, s, _) in timed.items()
        if name != "naive"
    }
    return out | {"bound_ours": round(naive_s / (timed["ours"][2] / (os.cpu_count() or 1)), 2)}


def render_rate(pdf: Path, workers: int, pages: int) -> float:
    started = time.perf_counter()
    opened = open_pdf(pdf, LoaderOptions(render_workers=workers))
    count = sum(1 for _ in opened.units)
    assert count == pages
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--pages", type=int, help="only the first N pages")
    parser.add_argument(
        "--folder",
        type=Path,
        action="append",
        help="a folder of mixed formats (repeatable; default sample_data/)",
    )
    args = parser.parse_args()
    for mixed_folder in args.folder or []:
        if not mixed_folder.is_dir() or not discover([mixed_folder]).files:
            parser.error(f"--folder {mixed_folder}: not a folder with files in it")
    cores = os.cpu_count() or 1
    result: dict = {"cores": cores}
    clip = ROOT / "sample_data" / "gettysburg-address.mp3"
    for threads in {loader_threads(0), cores}:  # load the speech and OCR models untimed
        list(transcribe(clip, LoaderOptions(asr_threads=threads)))
        ocr.read_text(Image.new("RGB", (64, 32), "white"), threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = _excerpt(args.pdf, args.pages, folder)
        result["pdf"] = {"file": args.pdf.name} | against_naive([pdf], folder / "pdf")
        pages = result["pdf"]["units"]
        alone = render_rate(pdf, 1, pages)
        pooled = render_rate(pdf, cores, pages)
        result["render"] = {
            "in_process_pages_per_s": round(alone, 1),
            f"{cores}_workers_pages_per_s": round(pooled, 1),
            "per_core_pages_per_s": round(pooled / cores, 1),
        }
        result["folders"] = {}
        for n, mixed_folder in enumerate(args.folder or [ROOT / "sample_data"]):
            mixed = discover([mixed_folder]).files
            result["folders"][str(mixed_folder)] = {"files": len(mixed)} | against_naive(
                mixed, folder / f"mixed-{n}"
            )
    with av.open(str(clip)) as container:
        duration = container.duration / 1e6
    started = time.perf_counter()
    list(transcribe(clip, LoaderOptions()))
    result["speech"] = {
        "audio_s": round(duration, 1),
        "real_time_factor": round((time.perf_counter() - started) / duration, 3),
    }
    print(json.dumps(result, indent=2))
    save_results("ingest", result)


if __name__ == "__main__":
    main()
