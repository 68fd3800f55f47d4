"""Embedded store choice: qdrant-edge-py vs qdrant-client's local mode, same data, same queries.

    python bench/store_choice.py [--sizes 10000 100000] [--queries 50]

Each (engine, size) runs in its own process so peak memory is its own. Points have the
lite profile's real shape: a MaxSim multivector of 3 passages x 384-d, a BM25-like sparse
vector of ~40 terms, and a payload with ~1.5 kB of page text. Queries are hybrid, as in
`rag search`: a dense and a sparse prefetch (50 candidates each) fused by RRF, top 5.
Results go to bench/results/store_choice.json.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from save_results import save_results

DIM, PASSAGES, TERMS, VOCAB, BATCH = 384, 3, 40, 30_000, 512


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for start in range(0, n, BATCH):
        m = min(BATCH, n - start)
        dense = rng.standard_normal((m, PASSAGES, DIM), dtype=np.float32)
        dense /= np.linalg.norm(dense, axis=-1, keepdims=True)
        rows = []
        for i in range(m):
            idx = np.unique(rng.integers(0, VOCAB, TERMS)).tolist()
            rows.append(
                (
                    str(uuid.UUID(int=start + i + 1)),
                    dense[i].tolist(),
                    (idx, rng.random(len(idx)).tolist()),
                    {
                        "document_id": f"doc{(start + i) // 300}",
                        "page": (start + i) % 300 + 1,
                        "modality": "page",
                        "tags": ["bench"],
                        "text": "lorem ipsum " * 125,
                    },
                )
            )
        yield rows


def _queries(q: int):
    rng = np.random.default_rng(1)
    for _ in range(q):
        v = rng.standard_normal(DIM).astype(np.float32)
        idx = np.unique(rng.integers(0, VOCAB, 6)).tolist()
        yield [(v / np.linalg.norm(v)).tolist()], (idx, [1.0] * len(idx))


def run_edge(path: Path, n: int, q: int) -> dict:
    import qdrant_edge as qe

    cfg = qe.EdgeConfig(
        vectors={
            "text": qe.EdgeVectorParams(
                DIM,
                qe.Distance.Cosine,
                multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
            )
        },
        sparse_vectors={"sparse": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )
    shard = qe.EdgeShard.create(str(path), cfg)
    s = time.perf_counter()
    for rows in _data(n):
        shard.update(
            qe.UpdateOperation.upsert_points(
                [
                    qe.Point(i, {"text": d, "sparse": qe.SparseVector(*sp)}, p)
                    for i, d, sp, p in rows
                ]
            )
        )
    shard.flush()
    upsert_s = time.perf_counter() - s
    lat = []
    for dense, sparse in _queries(q):
        s = time.perf_counter()
        shard.query(
            qe.QueryRequest(
                limit=5,
                with_payload=True,
                query=qe.Fusion.Rrf(k=60),
                prefetches=[
                    qe.Prefetch(limit=50, query=qe.Query.Nearest(dense, using="text")),
                    qe.Prefetch(
                        limit=50, query=qe.Query.Nearest(qe.SparseVector(*sparse), using="sparse")
                    ),
                ],
            )
        )
        lat.append(time.perf_counter() - s)
    shard.close()
    return {"upsert_s": upsert_s, "latencies": lat}


def run_local(path: Path, n: int, q: int) -> dict:
    from qdrant_client import QdrantClient, models

    client = QdrantClient(path=str(path))
    client.create_collection(
        "bench",
        vectors_config={
            "text": models.VectorParams(
                size=DIM,
                distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(
                    comparator=models.MultiVectorComparator.MAX_SIM
                ),
            )
        },
        sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    s = time.perf_counter()
    for rows in _data(n):
        client.upsert(
            "bench",
            [
                models.PointStruct(
                    id=i,
                    vector={"text": d, "sparse": models.SparseVector(indices=sp[0], values=sp[1])},
                    payload=p,
                )
                for i, d, sp, p in rows
            ],
        )
    upsert_s = time.perf_counter() - s
    lat = []
    for dense, sparse in _queries(q):
        s = time.perf_counter()
        client.query_points(
            "bench",
            limit=5,
            with_payload=True,
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            prefetch=[
                models.Prefetch(limit=50, query=dense, using="text"),
                models.Prefetch(
                    limit=50,
                    query=models.SparseVector(indices=sparse[0], values=sparse[1]),
                    using="sparse",
                ),
            ],
        )
        lat.append(time.perf_counter() - s)
    client.close()
    return {"upsert_s": upsert_s, "latencies": lat}


def child(engine: str, n: int, q: int) -> None:
    """Runs in its own process; prints one JSON line."""
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        result = (run_edge if engine == "edge" else run_local)(Path(tmp) / "s", n, q)
        disk = sum(f.stat().st_blocks * 512 for f in Path(tmp).rglob("*") if f.is_file())
    lat = np.array(result.pop("latencies")) * 1e3
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "engine": engine,
                "points": n,
                "upsert_points_per_s": n / result["upsert_s"],
                "p50_ms": float(np.percentile(lat, 50)),
                "p95_ms": float(np.percentile(lat, 95)),
                "peak_rss_mb": peak / 1024,
                "rss_growth_mb": (peak - base) / 1024,
                "disk_mb": disk / 1e6,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument(
        "--engines", nargs="+", default=["edge", "local"], choices=["edge", "local"]
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.queries)
        return
    rows = []
    for n in args.sizes:
        for engine in args.engines:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    engine,
                    str(n),
                    "--queries",
                    str(args.queries),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], file=sys.stderr)
    print("\n| engine | points | upserts/s | query p50 ms | query p95 ms | RSS MB | disk MB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        name = "qdrant-edge-py" if r["engine"] == "edge" else "qdrant-client local"
        print(
            f"| {name} | {r['points']:,} | {r['upsert_points_per_s']:,.0f} | {r['p50_ms']:.1f} "
            f"| {r['p95_ms']:.1f} | {r['rss_growth_mb']:.0f} | {r['disk_mb']:.0f} |"
        )
    for n in args.sizes if len(args.engines) == 2 else []:
        e, loc = (
            next(r for r in rows if r["engine"] == k and r["points"] == n)
            for k in ("edge", "local")
        )
        print(
            f"{n:,} points: edge is {loc['p50_ms'] / e['p50_ms']:.0f}x faster at p50, "
            f"{loc['p95_ms'] / e['p95_ms']:.0f}x at p95, upserts "
            f"{e['upsert_points_per_s'] / loc['upsert_points_per_s']:.1f}x faster"
        )
    save_results("store_choice", rows)


if __name__ == "__main__":
    main()
