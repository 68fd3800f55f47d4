"""Our ingestion pipeline against a naive one, in one run, plus render and speech rates.

    bench/fetch_corpus.sh && python bench/ingest_vs_naive.py bench/data/pgfplots.pdf [--pages N]

1. The PDF through `RAG.ingest` (pixels kept in memory, JPEG page store, batched
   embedding in ONNX Runtime with int8 weights, batched upserts), and again with the
   ONNX Runtime fp32 encoder and with the torch fp32 model, against a naive pipeline over
   the same pages in the same process: render, encode to PNG, write, read back, embed one
   page (the model as shipped: torch, fp32), upsert one point, sequentially.
   Ratio = ours / naive in pages/s.
2. Render-only pages/s (text layer + pixels), in this process and with worker processes,
   per core: what a GPU embedder would be fed.
3. `sample_data/` as a folder of mixed formats (PDF, PPTX via LibreOffice, PNG scan with
   OCR, MP3, MP4) through `RAG.ingest`: units/s.
4. Speech recognition real-time factor (transcription seconds / audio seconds).
Results go to bench/results/ingest.json.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import av
import pymupdf
from ingest_pdf import _excerpt  # the same page excerpt as the stage benchmark
from PIL import Image
from save_results import save_results

from ingest.media import transcribe
from ingest.pdf import open_pdf
from rag import RAG, Settings
from rag.edge_store import EdgeStore
from rag.models.sparse import Bm25Encoder
from rag.passages import normalize
from rag.profiles import build_embedder, choose_profile
from rag.records import Modality, Unit
from rag.store import PointRecord, Schema, point_id

ROOT = Path(__file__).resolve().parent.parent


def ours(pdf: Path, data: Path, **settings: object) -> float:
    with RAG(Settings(data_dir=data, **settings)) as rag:
        rag.embedder  # noqa: B018 (load/export the model outside the timing, as naive does)
        started = time.perf_counter()
        report = rag.ingest([pdf])
        assert report.outcomes[0].status == "ingested", report.outcomes[0].reason
        return time.perf_counter() - started


def naive(pdf: Path, data: Path, settings: Settings) -> float:
    embedder = build_embedder(settings, choose_profile(settings))
    sparse = Bm25Encoder()
    store = EdgeStore(data / "store", Schema(embedder.id, embedder.dense_specs()))
    pngs = data / "png"
    pngs.mkdir(parents=True)
    started = time.perf_counter()
    with pymupdf.open(pdf) as doc:
        for page in doc:
            png = pngs / f"{page.number}.png"
            png.write_bytes(page.get_pixmap(dpi=settings.render_dpi).tobytes("png"))
            image = Image.open(png).convert("RGB")
            unit = Unit(page.number, Modality.PAGE, normalize(page.get_text("text")), image)
            vectors = embedder.embed_units([unit])[0]
            store.upsert(
                [
                    PointRecord(
                        point_id("naive", unit.index),
                        vectors,
                        sparse.document(unit.text) if unit.text else None,
                        {"text": unit.text, "image": png.name},
                    )
                ]
            )
    store.flush()
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def render_rate(pdf: Path, workers: int, pages: int) -> float:
    started = time.perf_counter()
    opened = open_pdf(pdf, Settings(render_workers=workers))
    count = sum(1 for _ in opened.units)
    assert count == pages
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--pages", type=int, help="only the first N pages")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    result: dict = {"cores": cores}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = _excerpt(args.pdf, args.pages, folder)
        pages = pymupdf.open(pdf).page_count
        timed = {
            "ours": ours(pdf, folder / "ours"),
            "ours_onnx_fp32": ours(pdf, folder / "onnx-fp32", embed_int8=False),
            "ours_torch_fp32": ours(pdf, folder / "torch-fp32", embed_runtime="torch"),
            "naive": naive(pdf, folder / "naive", Settings(embed_runtime="torch")),
        }
        result["pdf"] = {"file": args.pdf.name, "pages": pages} | {
            f"{name}_pages_per_s": round(pages / seconds, 2) for name, seconds in timed.items()
        }
        result["pdf"] |= {
            f"ratio_{name}": round(timed["naive"] / seconds, 2)
            for name, seconds in timed.items()
            if name != "naive"
        }
        alone = render_rate(pdf, 1, pages)
        pooled = render_rate(pdf, cores, pages)
        result["render"] = {
            "in_process_pages_per_s": round(alone, 1),
            f"{cores}_workers_pages_per_s": round(pooled, 1),
            "per_core_pages_per_s": round(pooled / cores, 1),
        }
        with RAG(Settings(data_dir=folder / "mixed")) as rag:
            rag.embedder  # noqa: B018
            report = rag.ingest([ROOT / "sample_data"])
        result["mixed_folder"] = {
            "files": len(report.outcomes),
            "failed": [o.path for o in report.failed],
            "units": report.units,
            "seconds": round(report.seconds, 1),
            "units_per_s": round(report.units / report.seconds, 2),
        }
    clip = ROOT / "sample_data" / "gettysburg-address.mp3"
    with av.open(str(clip)) as container:
        duration = container.duration / 1e6
    list(transcribe(clip, Settings()))  # load the model outside the timing
    started = time.perf_counter()
    list(transcribe(clip, Settings()))
    result["speech"] = {
        "audio_s": round(duration, 1),
        "real_time_factor": round((time.perf_counter() - started) / duration, 3),
    }
    print(json.dumps(result, indent=2))
    save_results("ingest", result)


if __name__ == "__main__":
    main()
