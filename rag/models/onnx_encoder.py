"""Run a sentence-transformers text model's encoder in ONNX Runtime on CPU.

On a 2-core CPU, ONNX Runtime runs MiniLM 2.2x faster than torch at fp32 with the same
vectors, and 1.6x faster than torch's dynamic int8 at int8, with vectors much closer to
fp32 (mean cosine 0.993 against torch int8's 0.907), because its quantizer scales each
weight column on its own. The encoder is exported once per model and cached; the
sentence-transformers model around it (tokenizer, prompts, pooling, normalization) stays
as it is, so only the transformer's forward pass changes hands.

Each row runs on its own without its padding, one row per core at a time (single-threaded
runs on a thread pool were 1.25-1.4x faster than one two-threaded run after another on 2
cores): no work is spent on pad tokens, and since int8 activation scales are computed per
call, a passage's vector never depends on which passages shared its batch.
"""

import hashlib
import json
import logging
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rag.core.errors import ModelError

# Bump when the export or quantization recipe changes, so cached files are rebuilt.
RECIPE = "eager-opset17-dynamic-axes/int8-per-channel-v1"


def attach_onnx_encoder(st_model: Any, cache_dir: Path, int8: bool) -> None:
    """Replace the transformer inside `st_model` with an ONNX Runtime session of itself."""
    module = st_model[0]
    hf_model = module.model
    names = [n for n in module.tokenizer.model_input_names if n != "modality"]
    path = cache_dir / f"{_fingerprint(hf_model, names, int8)}.onnx"
    if not path.exists():
        _build(hf_model, names, path, int8)
    module.model = OnnxEncoder(path, hf_model.config)


class OnnxEncoder(torch.nn.Module):
    """Stands in for a Hugging Face encoder: same inputs, `last_hidden_state` out."""

    def __init__(self, path: Path, config: Any) -> None:
        super().__init__()
        import onnxruntime

        self.config = config
        self.device = torch.device("cpu")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # parallel across rows instead (see the docstring)
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            path.unlink(missing_ok=True)
            raise ModelError(
                f"The cached ONNX encoder {path} could not be loaded ({exc}); it was removed"
                " and is rebuilt on the next start."
            ) from exc
        self._inputs = [i.name for i in self._session.get_inputs()]
        # as many rows at once as torch would use threads: physical cores, or the
        # OMP_NUM_THREADS a host (Ray gives each actor its CPU share) sets
        self._rows = ThreadPoolExecutor(torch.get_num_threads(), thread_name_prefix="onnx-rows")

    def forward(self, attention_mask: torch.Tensor, **features: Any) -> dict[str, torch.Tensor]:
        features["attention_mask"] = attention_mask
        lengths = attention_mask.sum(dim=1).tolist()
        batch, width = attention_mask.shape
        out = np.zeros((batch, width, self.config.hidden_size), dtype=np.float32)

        def run(row: int) -> None:
            length = lengths[row]
            feed = {n: features[n][row : row + 1, :length].numpy() for n in self._inputs}
            out[row, :length] = self._session.run(None, feed)[0][0]

        list(self._rows.map(run, range(batch)))  # the session runs concurrent calls safely
        return {"last_hidden_state": torch.from_numpy(out)}


def _fingerprint(hf_model: Any, names: list[str], int8: bool) -> str:
    """Names the cached file after everything that shapes it: weights, config, recipe."""
    import onnxruntime

    digest = hashlib.sha256()
    digest.update(json.dumps([RECIPE, int8, names, onnxruntime.__version__]).encode())
    digest.update(hf_model.config.to_json_string().encode())
    for name, tensor in sorted(hf_model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    precision = "int8" if int8 else "fp32"
    return f"{type(hf_model).__name__.lower()}-{precision}-{digest.hexdigest()[:16]}"


class _Positional(torch.nn.Module):
    """The exporter passes inputs by position; the model takes them by name."""

    def __init__(self, hf_model: Any, names: list[str]) -> None:
        super().__init__()
        self.hf_model = hf_model
        self.names = names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.hf_model(**dict(zip(self.names, inputs, strict=True))).last_hidden_state


def _build(hf_model: Any, names: list[str], path: Path, int8: bool) -> None:
    """Export (and quantize) into a temporary file, then move it into place atomically."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        workspace = tempfile.TemporaryDirectory(dir=path.parent)
    except OSError as exc:
        raise ModelError(
            f"Cannot cache the ONNX encoder in {path.parent} ({exc.strerror or exc});"
            " set RAG_MODELS_DIR to a writable folder."
        ) from exc
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"hidden": {0: "batch", 1: "sequence"}}
    attention = hf_model.config._attn_implementation
    hf_model.set_attn_implementation("eager")  # exports to plain ops ONNX Runtime fuses
    with workspace as tmp:
        exported = Path(tmp) / "fp32.onnx"
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Positional(hf_model.eval(), names),
                    example,
                    str(exported),
                    input_names=names,
                    output_names=["hidden"],
                    dynamic_axes=axes,
                    opset_version=17,
                    dynamo=False,
                )
            if int8:
                exported = _quantize(exported, Path(tmp) / "int8.onnx")
        except Exception as exc:
            raise ModelError(
                f"Cannot run the text embedder ({type(hf_model).__name__}) in ONNX Runtime:"
                f" {exc}. Set RAG_EMBED_RUNTIME=torch to run it in torch."
            ) from exc
        finally:
            hf_model.set_attn_implementation(attention)
        os.replace(exported, path)


def _quantize(source: Path, target: Path) -> Path:
    """int8 weights with one scale per output column; activations are quantized per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process applies to static quantization
    try:
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
    finally:
        logging.disable(logging.NOTSET)
    return target
