"""Rerank latency of the qwen3-vl profile: one query against 20 mixed candidates.

    python bench/rerank_gpu.py                      # Qwen/Qwen3-VL-Reranker-2B (GPU host)
    python bench/rerank_gpu.py --random-weights     # same architecture, random weights
    python bench/rerank_gpu.py --tiny               # CPU smoke run with the test twin

Candidates: 14 page images (sample PDFs at 100 dpi, downscaled to --tokens) and 6 text
passages. Reports p50/p95 over --repeats of our reranker (pixel-budget batches, bf16) and,
in the same run, `CrossEncoder.rank` with default settings on full-size pages.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from save_results import save_results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from embed_gpu import pages, timed  # noqa: E402

from rag.core.records import Hit, Modality  # noqa: E402
from rag.models.reranker import CrossEncoderReranker  # noqa: E402


def candidates(work: Path) -> list[Hit]:
    hits = []
    for i, img in enumerate(pages(14)):
        path = work / f"p{i}.jpg"
        img.save(path, quality=80)
        hits.append(Hit(str(i), "d", "s.pdf", "S", i + 1, 0.0, Modality.PAGE, "", image_path=path))
    for i in range(6):
        text = f"Passage {i}: packages are installed into libraries with install.packages. " * 8
        hits.append(Hit(f"t{i}", "d", "t.txt", "T", 1, 0.0, Modality.TEXT, text, page_text=text))
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="Qwen/Qwen3-VL-Reranker-2B")
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--tokens", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = args.model
        if args.tiny or args.random_weights:
            from tiny_qwen import build_reranker

            path = str(build_reranker(work / "reranker", arch="tiny" if args.tiny else "2b"))
        reranker = CrossEncoderReranker(path, max_visual_tokens=args.tokens)
        hits = candidates(work)
        query = "How do I install R packages into a personal library?"
        reranker.score(query, None, hits[:2])  # warm-up
        ours = [timed(lambda: reranker.score(query, None, hits)) for _ in range(args.repeats)]
        from PIL import Image

        docs = [
            {"image": Image.open(h.image_path)} if h.image_path else {"text": h.page_text}
            for h in hits
        ]
        base = [
            timed(lambda: reranker._model.rank({"text": query}, docs))
            for _ in range(max(3, args.repeats // 4))
        ]
    result = {
        "candidates": len(hits),
        "tokens": args.tokens,
        "ours_ms_p50": float(np.percentile(ours, 50) * 1e3),
        "ours_ms_p95": float(np.percentile(ours, 95) * 1e3),
        "baseline_ms_p50": float(np.percentile(base, 50) * 1e3),
    }
    ratio = result["baseline_ms_p50"] / result["ours_ms_p50"]
    print(
        f"rerank {len(hits)} candidates: p50 {result['ours_ms_p50']:.0f} ms, p95 "
        f"{result['ours_ms_p95']:.0f} ms; CrossEncoder.rank defaults p50 "
        f"{result['baseline_ms_p50']:.0f} ms ({ratio:.1f}x ours)"
    )
    save_results("rerank_gpu", result)


if __name__ == "__main__":
    main()
