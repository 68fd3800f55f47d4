"""Ingestion throughput on a real PDF, and where the time goes.

    python bench/ingest_pdf.py bench/data/pgfplots.pdf [--pages 300] [--dpi 100]

Prints (1) end-to-end pages/s through `RAG.ingest` (render + text + image store + embed +
BM25 + upsert, lite profile, CPU), (2) a per-stage breakdown measured on the same pages in
one sequential pass, and (3) page-image encoders compared on the same rendered pages, as
ratios, because this machine is noisy. Results also go to bench/results/ingest_pdf.json.
"""

import argparse
import io
import tempfile
import time
from pathlib import Path

import pymupdf
from save_results import save_results

from ingest.loaders.pdf import render
from rag import RAG, Settings
from rag.core.payload import point_id
from rag.core.records import Modality, Unit
from rag.core.text import normalize
from rag.models.profiles import build_embedder, choose_profile
from rag.models.sparse import Bm25Encoder
from rag.storage.images import ImageStore
from rag.storage.vectors.base import PointRecord, Schema
from rag.storage.vectors.embedded import EdgeStore


def _excerpt(pdf: Path, pages: int | None, out_dir: Path) -> Path:
    src = pymupdf.open(pdf)
    if not pages or pages >= src.page_count:
        return pdf
    out = pymupdf.open()
    out.insert_pdf(src, from_page=0, to_page=pages - 1)
    path = out_dir / f"{pdf.stem}-{pages}p.pdf"
    out.save(path)
    return path


def end_to_end(pdf: Path, settings: Settings, embedder) -> dict:
    with RAG(settings, embedder=embedder) as rag:
        started = time.perf_counter()
        report = rag.ingest([pdf])
        seconds = time.perf_counter() - started
    assert report.count("ingested") == 1, report
    return {"pages": report.units, "seconds": seconds, "pages_per_s": report.units / seconds}


def stages(pdf: Path, settings: Settings, embedder, work: Path) -> dict[str, float]:
    """Seconds per stage over all pages, in the pipeline's order and batch size."""
    t = dict.fromkeys(["text", "render", "image store", "embed", "bm25", "upsert"], 0.0)
    images = ImageStore(work / "img", settings.image_format, settings.image_quality)
    bm25 = Bm25Encoder()
    store = EdgeStore(work / "store", Schema(embedder.id, embedder.dense_specs()))
    doc = pymupdf.open(pdf)
    batch: list[Unit] = []

    def flush() -> None:
        s = time.perf_counter()
        keys = [images.save(u.image) for u in batch]
        t["image store"] += time.perf_counter() - s
        s = time.perf_counter()
        dense = embedder.embed_units(batch)
        t["embed"] += time.perf_counter() - s
        s = time.perf_counter()
        sparse = [bm25.document(u.text) for u in batch]
        t["bm25"] += time.perf_counter() - s
        s = time.perf_counter()
        store.upsert(
            [
                PointRecord(
                    point_id("bench", u.index),
                    d,
                    sp,
                    {"document_id": "bench", "image": k, "text": u.text},
                )
                for u, d, sp, k in zip(batch, dense, sparse, keys, strict=True)
            ]
        )
        t["upsert"] += time.perf_counter() - s
        batch.clear()

    for page in doc:
        s = time.perf_counter()
        text = normalize(page.get_text("text"))
        t["text"] += time.perf_counter() - s
        s = time.perf_counter()
        image = render(page, settings.render_dpi)
        t["render"] += time.perf_counter() - s
        batch.append(Unit(page.number, Modality.PAGE, text, image))
        if len(batch) == 16:
            flush()
    if batch:
        flush()
    store.close()
    return t


def encoders(pdf: Path, dpi: int, sample: int = 40) -> dict[str, float]:
    """Seconds to encode `sample` rendered pages with each candidate format."""
    doc = pymupdf.open(pdf)
    step = max(1, doc.page_count // sample)
    pages = [render(doc[i], dpi) for i in range(0, doc.page_count, step)][:sample]
    formats = {
        "PNG": {"format": "PNG"},
        "WebP q80 method 0 (RAG_IMAGE_FORMAT=webp)": {"format": "WEBP", "quality": 80, "method": 0},
        "WebP q80 method 4 (Pillow default)": {"format": "WEBP", "quality": 80},
        "JPEG q80 (default)": {"format": "JPEG", "quality": 80},
    }
    out = {}
    for name, kwargs in formats.items():
        s = time.perf_counter()
        size = 0
        for image in pages:
            buf = io.BytesIO()
            image.save(buf, **kwargs)
            size += buf.tell()
        out[name] = {
            "s_per_page": (time.perf_counter() - s) / len(pages),
            "kb": size / len(pages) / 1e3,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--pages", type=int, default=None, help="use only the first N pages")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf = _excerpt(args.pdf, args.pages, work)
        settings = Settings(data_dir=work / "e2e", render_dpi=args.dpi)
        s = time.perf_counter()
        embedder = build_embedder(settings, choose_profile(settings))
        load_s = time.perf_counter() - s
        e2e = end_to_end(pdf, settings, embedder)
        stage_s = stages(pdf, settings, embedder, work / "stages")
        enc = encoders(pdf, args.dpi)
    total = sum(stage_s.values())
    print(f"\n{args.pdf.name}: {e2e['pages']} pages at {args.dpi} dpi, lite profile, CPU")
    print(f"model load: {load_s:.1f} s (once per process, not counted below)")
    print(f"end to end: {e2e['pages_per_s']:.1f} pages/s ({e2e['seconds']:.1f} s)\n")
    print("| stage | s | share | pages/s if alone |\n|---|---|---|---|")
    for name, sec in stage_s.items():
        print(f"| {name} | {sec:.2f} | {sec / total:.0%} | {e2e['pages'] / sec:.0f} |")
    base = enc["PNG"]["s_per_page"]
    print("\n| page image encoder | ms/page | kB/page | speed vs PNG |\n|---|---|---|---|")
    for name, r in enc.items():
        ms, speed = r["s_per_page"] * 1e3, base / r["s_per_page"]
        print(f"| {name} | {ms:.0f} | {r['kb']:.0f} | {speed:.1f}x |")
    save_results(
        "ingest_pdf",
        {
            "pdf": args.pdf.name,
            "dpi": args.dpi,
            "model_load_s": load_s,
            "end_to_end": e2e,
            "stages_s": stage_s,
            "encoders": enc,
        },
    )


if __name__ == "__main__":
    main()
