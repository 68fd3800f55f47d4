"""Load on the web app: N concurrent asks through gradio_client, lite profile.

    python bench/ui_load.py [--asks 20] [--generator-url URL --generator-model NAME]

Starts the app in this process on the sample PDFs; without --generator-url it starts
SmolLM2-135M behind llama.cpp's OpenAI-compatible server (as the tests do). Each ask is
its own client submitting to /ask, after one ask alone as the baseline; we record the
time to the first streamed output and to the last one, then print p50/p95 and errors.
Results also go to bench/results/ui_load.json. Numbers depend on the generator: with
llama.cpp on 2 cores it serves one request at a time, so later asks queue behind earlier ones.
"""

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client
from save_results import save_results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import LlamaServer, free_port  # noqa: E402 (the tests' server helper)

from rag import RAG, Settings  # noqa: E402
from ui.app import launch  # noqa: E402
from ui.backend import Backend  # noqa: E402

QUESTIONS = [
    "How do I install R packages into a personal library?",
    "What is a perfect phylogeny?",
    "How do I add a legend to a pgfplots axis?",
    "Which estimators does the sandwich package provide?",
    "How do I set up a local package repository?",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ask(url: str, question: str, record: dict) -> None:
    started = time.perf_counter()
    try:
        job = Client(url, verbose=False).submit(question, api_name="/ask")
        for _ in job:
            record.setdefault("first_s", time.perf_counter() - started)
        answer, _ = job.result()
        record["total_s"] = time.perf_counter() - started
        record.setdefault("first_s", record["total_s"])
        record["chars"] = len(answer)
    except Exception as exc:  # a benchmark records failures instead of stopping
        record["error"] = f"{type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=20)
    parser.add_argument("--generator-url")
    parser.add_argument("--generator-model", default="smollm2")
    args = parser.parse_args()

    server = None if args.generator_url else LlamaServer()
    url = args.generator_url or server.url
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            generator_url=url,
            generator_model=args.generator_model,
            generator_max_tokens=128,
        )
        rag = RAG(settings)
        rag.ingest(sorted((ROOT / "sample_data").glob("*.pdf")))
        port = free_port()
        app = launch(Backend(rag), "127.0.0.1", port, 50, None, block=False)
        app_url = f"http://127.0.0.1:{port}/"
        alone: dict = {}
        _ask(app_url, QUESTIONS[0], alone)  # one ask with nothing else running: the baseline
        records: list[dict] = [{} for _ in range(args.asks)]
        threads = [
            threading.Thread(target=_ask, args=(app_url, QUESTIONS[i % len(QUESTIONS)], r))
            for i, r in enumerate(records)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        app.close()
        rag.close()
    if server:
        server.stop()

    ok = [r for r in records if "error" not in r]
    first = [r["first_s"] for r in ok]
    total = [r["total_s"] for r in ok]
    result = {
        "asks": args.asks,
        "errors": [r["error"] for r in records if "error" in r],
        "wall_s": round(wall, 2),
        "first_output_p50_s": round(statistics.median(first), 2) if ok else None,
        "first_output_p95_s": round(_percentile(first, 0.95), 2) if ok else None,
        "full_answer_p50_s": round(statistics.median(total), 2) if ok else None,
        "full_answer_p95_s": round(_percentile(total, 0.95), 2) if ok else None,
        "alone_first_output_s": round(alone.get("first_s", float("nan")), 2),
        "alone_full_answer_s": round(alone.get("total_s", float("nan")), 2),
        "generator": args.generator_url or "SmolLM2-135M via llama.cpp (started here)",
        "queue_concurrency": 4,
    }
    print(json.dumps(result, indent=2))
    save_results("ui_load", result)


if __name__ == "__main__":
    main()
