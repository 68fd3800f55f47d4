"""Page-embedding throughput of the qwen3-vl profile, against sentence-transformers' defaults.

    python bench/embed_gpu.py                       # Qwen/Qwen3-VL-Embedding-2B (GPU host)
    python bench/embed_gpu.py --random-weights      # same architecture, random weights, offline
    python bench/embed_gpu.py --tiny --pages 24     # CPU smoke run with the test twin

Pages are the sample PDFs rendered at 100 dpi (repeated to --pages). For each visual-token
budget (256, 432, 768) it reports pages/s through our embedder (pages downscaled to the
budget, pixel-budget batches, bf16 on CUDA), model FLOP utilisation (FLOPs estimated as
2 x parameters x tokens, against --peak-tflops), and peak GPU memory; then query-encode
latency; and, in the same run, the baseline: `encode_document` with default settings on
the same full-size pages. Results also go to bench/results/embed_gpu.json.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pymupdf
from save_results import save_results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


from ingest.loaders.pdf import render  # noqa: E402
from rag.core.records import Modality, Unit  # noqa: E402
from rag.models.visual import PIXELS_PER_TOKEN, VisualEmbedder, fit_to_tokens  # noqa: E402

PROMPT_TOKENS = 20  # chat template + instruction around each page


def pages(n: int, dpi: int = 100) -> list:
    rendered = []
    for pdf in sorted((ROOT / "sample_data").glob("*.pdf")):
        for page in pymupdf.open(pdf):
            rendered.append(render(page, dpi))
    return [rendered[i % len(rendered)] for i in range(n)]


def model_dir(args: argparse.Namespace, work: Path) -> str:
    if args.tiny or args.random_weights:
        from tiny_qwen import build_embedder

        return str(build_embedder(work / "embedder", arch="tiny" if args.tiny else "2b"))
    return args.model


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(run: Callable[[], object]) -> float:
    """Seconds `run()` takes, with the GPU's queued work finished before and after."""
    sync()
    start = time.perf_counter()
    run()
    sync()
    return time.perf_counter() - start


def peak_memory_gb(reset: bool = False) -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    if reset:
        torch.cuda.reset_peak_memory_stats()
    return torch.cuda.max_memory_allocated() / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="Qwen/Qwen3-VL-Embedding-2B")
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--pages", type=int, default=256)
    parser.add_argument("--tokens", type=int, nargs="+", default=[256, 432, 768])
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="H100 SXM dense bf16")
    args = parser.parse_args()
    images = pages(args.pages)
    results: dict = {"pages": len(images), "budgets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = model_dir(args, Path(tmp))
        for tokens in args.tokens:
            emb = VisualEmbedder(
                path, max_visual_tokens=tokens, pixel_budget=16 * tokens * PIXELS_PER_TOKEN
            )
            params = sum(p.numel() for p in emb._model.parameters())
            units = [Unit(i, Modality.PAGE, "", img) for i, img in enumerate(images)]
            emb.embed_units(units[:4])  # warm-up: kernels, allocator
            peak_memory_gb(reset=True)
            seconds = timed(partial(emb.embed_units, units))
            real_tokens = np.mean(
                [
                    (fitted := fit_to_tokens(img, tokens)).width * fitted.height / PIXELS_PER_TOKEN
                    for img in images
                ]
            )
            flops = 2 * params * (real_tokens + PROMPT_TOKENS) * len(images)
            results["budgets"][tokens] = {
                "pages_per_s": len(images) / seconds,
                "mfu": flops / seconds / (args.peak_tflops * 1e12),
                "peak_gpu_gb": peak_memory_gb(),
                "visual_tokens_per_page": float(real_tokens),
            }
            print(tokens, results["budgets"][tokens], file=sys.stderr)
        latencies = [
            timed(lambda i=i: emb.embed_query(f"how do I install package number {i}?"))
            for i in range(30)
        ]
        results["query_ms_p50"] = float(np.percentile(latencies[5:], 50) * 1e3)
        baseline = emb._model  # same weights; defaults: no resize, batch 32, one call
        baseline_n = min(len(images), 64)
        pages_in = [{"image": img} for img in images[:baseline_n]]
        results["baseline_pages_per_s"] = baseline_n / timed(
            lambda: baseline.encode_document(pages_in)
        )
        results["params"] = params
    print(f"\n{len(images)} pages, {params / 1e9:.2f} B parameters")
    print(
        "| visual tokens/page | pages/s | MFU | peak GPU GB | vs baseline |\n|---|---|---|---|---|"
    )
    for tokens, r in results["budgets"].items():
        gb = f"{r['peak_gpu_gb']:.1f}" if r["peak_gpu_gb"] is not None else "-"
        print(
            f"| {tokens} (~{r['visual_tokens_per_page']:.0f}) | {r['pages_per_s']:.1f} "
            f"| {r['mfu']:.1%} | {gb} | {r['pages_per_s'] / results['baseline_pages_per_s']:.1f}x |"
        )
    print(
        f"baseline (encode_document defaults, full-size pages): "
        f"{results['baseline_pages_per_s']:.1f} pages/s; query encode p50 "
        f"{results['query_ms_p50']:.1f} ms"
    )
    save_results("embed_gpu", results)


if __name__ == "__main__":
    main()
