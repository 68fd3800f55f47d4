"""Store scale: upsert throughput, query latency and memory at 100k and 1M units, with
and without quantization, on the embedded engine (the same Qdrant segment code a server
runs per shard); then the arithmetic for 10M and 100M pages on a Qdrant cluster.

    python bench/scale.py                                   # 100k and 1M, none and scalar
    python bench/scale.py --sizes 100000 --quantization none scalar binary --index

Units have the qwen3-vl profile's shape: one 2048-d page vector (Qwen3-VL-Embedding-2B),
a BM25 sparse vector of ~40 terms and the real payload fields with ~1.5 kB of page text.
Vectors and payloads are on disk (memory-mapped), quantized copies in RAM, as the server
defaults (RAG_QDRANT_*). Queries are hybrid as in `rag search`: dense and sparse
prefetches (50 each) fused by RRF, top 5, rescoring quantized candidates (oversampling 2).
With --index the HNSW graph is built before querying (minutes per 100k 2048-d points on
2 cores); without it, queries scan every (quantized) vector, which bounds the latency a
graph improves on. Each run is its own process, so peak memory is its own. Results go to
bench/results/scale.json.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from save_results import save_results

DIM, TERMS, VOCAB, BATCH = 2048, 40, 30_000, 256
WORDS = "the quick brown fox jumps over the lazy dog while pages render ".split()


def _config(quantization: str, index: bool):
    import qdrant_edge as qe

    quant = {
        "none": None,
        "scalar": qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=0.99, always_ram=True),
        "binary": qe.BinaryQuantizationConfig(always_ram=True),
    }[quantization]
    dense = qe.EdgeVectorParams(
        size=DIM, distance=qe.Distance.Cosine, on_disk=True, quantization_config=quant
    )
    return qe.EdgeConfig(
        vectors={"visual": dense},
        sparse_vectors={"sparse": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        on_disk_payload=True,
        hnsw_config=None
        if index
        else qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
    )


def _points(start: int, count: int, rng: np.random.Generator) -> list:
    import qdrant_edge as qe

    dense = rng.standard_normal((count, DIM), dtype=np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    points = []
    for i in range(count):
        n = start + i
        idx = np.unique(rng.integers(0, VOCAB, TERMS)).tolist()
        text = " ".join(rng.choice(WORDS, 250))
        payload = {
            "document_id": f"{n // 300:064x}",
            "source": f"report-{n // 300}.pdf",
            "title": f"Report {n // 300}",
            "unit": n % 300,
            "page": n % 300 + 1,
            "modality": "page",
            "text": text,
            "image": f"{n:064x}.jpg",
            "tags": ["bench"],
            "added": 1.7e9 + n,
            "start_s": None,
            "end_s": None,
        }
        vectors = {
            "visual": dense[i].tolist(),
            "sparse": qe.SparseVector(idx, rng.random(len(idx)).tolist()),
        }
        points.append(qe.Point(str(uuid.UUID(int=n + 1)), vectors, payload))
    return points


def _rss() -> dict[str, float]:
    """This process's resident memory by kind, in MB (Linux /proc)."""
    lines = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if line.startswith("Rss"))
    return {k: int(v.split()[0]) / 1024 for k, v in fields.items()}


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def run_one(size: int, quantization: str, queries: int, index: bool, work: Path) -> dict:
    """One store: fill, optionally index, query; in this process."""
    import qdrant_edge as qe

    rng = np.random.default_rng(0)
    shard = qe.EdgeShard.create(str(work / "shard"), _config(quantization, index))
    for name, kind in (("document_id", qe.PayloadSchemaType.Keyword),):
        shard.update(qe.UpdateOperation.create_field_index(name, kind))
    started = time.perf_counter()
    generate = 0.0
    for start in range(0, size, BATCH):
        t = time.perf_counter()
        batch = _points(start, min(BATCH, size - start), rng)
        generate += time.perf_counter() - t
        shard.update(qe.UpdateOperation.upsert_points(batch))
    shard.flush()
    upsert_s = time.perf_counter() - started - generate
    optimize_s = None
    if index or quantization != "none":  # the optimizer builds quantized copies (and HNSW)
        t = time.perf_counter()
        shard.optimize()
        optimize_s = time.perf_counter() - t
    params = (
        None
        if quantization == "none"
        else qe.SearchParams(
            quantization=qe.QuantizationSearchParams(rescore=True, oversampling=2.0)
        )
    )
    if not index:
        params = qe.SearchParams(exact=True, quantization=params.quantization if params else None)
    latencies = []
    qrng = np.random.default_rng(1)
    for _ in range(queries):
        v = qrng.standard_normal(DIM).astype(np.float32)
        idx = np.unique(qrng.integers(0, VOCAB, 6)).tolist()
        request = qe.QueryRequest(
            limit=5,
            query=qe.Fusion.Rrf(k=60),
            with_payload=True,
            prefetches=[
                qe.Prefetch(
                    limit=50,
                    query=qe.Query.Nearest((v / np.linalg.norm(v)).tolist(), using="visual"),
                    params=params,
                ),
                qe.Prefetch(
                    limit=50,
                    query=qe.Query.Nearest(qe.SparseVector(idx, [1.0] * len(idx)), using="sparse"),
                ),
            ],
        )
        t = time.perf_counter()
        shard.query(request)
        latencies.append(time.perf_counter() - t)
    held = _rss()  # what the engine holds once loaded and queried
    shard.close()
    warm = latencies[min(5, len(latencies) - 1) :]
    return {
        "size": size,
        "quantization": quantization,
        "hnsw": index,
        "upsert_points_per_s": size / upsert_s,
        "optimize_s": optimize_s,
        "query_ms_p50": float(np.percentile(warm, 50) * 1e3),
        "query_ms_p95": float(np.percentile(warm, 95) * 1e3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "anon_rss_mb": held["RssAnon"],  # heap: what memory must hold
        "file_rss_mb": held["RssFile"],  # memory-mapped store pages: cache the OS may drop
        "disk_mb": _folder_bytes(work) / 1e6,
    }


def _child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        result = run_one(args.size, args.quantization[0], args.queries, args.index, Path(tmp))
    print(json.dumps(result))


def capacity(rows: list[dict]) -> list[str]:
    """RAM and disk per unit, measured where this run built an HNSW index at the largest
    size (else from the model of Qdrant's storage), then the cluster arithmetic for 10M
    and 100M pages."""
    full, links = DIM * 4, 16 * 2 * 4 + 16 * 4  # float32 vector; HNSW m=16 links, about
    kept = {"scalar": DIM, "binary": DIM // 8}  # the quantized copy in RAM per vector
    ram = {q: b + links for q, b in kept.items()}
    disk = {q: full + 2_000 + b for q, b in kept.items()}  # vector, payload, quantized copy
    lines = []
    for q in kept:
        indexed = [r for r in rows if r["hnsw"] and r["quantization"] == q]
        if indexed:
            r = max(indexed, key=lambda r: r["size"])
            ram[q] = r["anon_rss_mb"] * 1e6 / r["size"]
            disk[q] = r["disk_mb"] * 1e6 / r["size"]
            lines.append(
                f"{q}: measured at {r['size']:,} units with HNSW: heap {r['anon_rss_mb']:.0f} MB"
                f" -> {ram[q]:.0f} B per unit in RAM; disk {disk[q]:.0f} B per unit"
            )
    if "binary" not in {r["quantization"] for r in rows if r["hnsw"]}:
        ram["binary"] = ram["scalar"] - (kept["scalar"] - kept["binary"])
        disk["binary"] = disk["scalar"] - (kept["scalar"] - kept["binary"])
        lines.append(
            f"binary: the scalar figures less the smaller copy ({kept['scalar']} - "
            f"{kept['binary']} B): {ram['binary']:.0f} B per unit in RAM"
        )
    node_ram, usable, replicas = 64, 0.7, 2
    for pages in (10_000_000, 100_000_000):
        for q in kept:
            need = pages * ram[q] * replicas / 1e9
            space = pages * disk[q] * replicas / 1e12
            nodes = max(replicas, int(np.ceil(need / (node_ram * usable))))  # a replica a node
            lines.append(
                f"{pages / 1e6:.0f}M pages, {q}, {replicas} replicas: RAM {pages:.0e} x"
                f" {ram[q]:.0f} B x {replicas} = {need:.0f} GB -> {nodes} nodes of {node_ram} GB"
                f" at {usable:.0%}; disk {pages:.0e} x {disk[q]:.0f} B x {replicas} ="
                f" {space:.2f} TB"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--quantization", nargs="+", default=["none", "scalar"])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--index", action="store_true", help="Build HNSW before querying.")
    parser.add_argument("--work", default=None, help="Folder for the stores (needs disk).")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one child run
    args = parser.parse_args()
    if args.size:
        _child(args)
        return
    rows = []
    for size in args.sizes:
        for q in args.quantization:
            command = [sys.executable, __file__, "--size", str(size), "--quantization", q]
            command += ["--queries", str(args.queries)] + (["--index"] if args.index else [])
            command += ["--work", args.work] if args.work else []
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
                continue
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(
        "| units | quantization | HNSW | upsert pts/s | optimize s | query p50 / p95 ms"
        " | heap MB | mapped MB | disk MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        opt = f"{r['optimize_s']:.0f}" if r["optimize_s"] is not None else "-"
        print(
            f"| {r['size']:,} | {r['quantization']} | {'yes' if r['hnsw'] else 'full scan'} |"
            f" {r['upsert_points_per_s']:.0f} | {opt} | {r['query_ms_p50']:.0f} /"
            f" {r['query_ms_p95']:.0f} | {r['anon_rss_mb']:.0f} | {r['file_rss_mb']:.0f} |"
            f" {r['disk_mb']:.0f} |"
        )
    plan = capacity(rows)
    print("\n".join(plan))
    save_results("scale", {"runs": rows, "capacity": plan})


if __name__ == "__main__":
    main()
