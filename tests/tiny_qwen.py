"""Tiny random-weight twins of Qwen3-VL-Embedding-2B and Qwen3-VL-Reranker-2B, built offline.

Same files and architecture as the hub checkpoints (a Qwen3VLForConditionalGeneration, a
Qwen2 tokenizer, the Qwen3-VL processor files and the sentence-transformers module files in
the 5.4 format the hub models were saved with), at ~0.25 M parameters, so tests run the real
loading and encoding code paths in milliseconds. Deterministic: same files on every build.
The tokenizer holds a few hundred tokens; other words fall back to byte-level pieces.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# ----------------------------------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------------------------------

SPECIAL_TOKENS = [  # same order as in the real Qwen vocabulary (151643...)
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# Every word here becomes a single BPE token (plus its "Ġword" variant), so the vocabulary stays
# at a few hundred entries; anything else falls back to byte-level pieces.
WORDS = """yes no Yes No the a an of to and in is are for on with that this it as by from or be
query Query document Document image images text video user assistant system input
Represent Retrieve Given search retrieve relevant candidates answer Judge whether meets
requirements based Instruct provided Note can only hello world cat dog photo red blue green""".split()

EMBED_DOC_INSTRUCTION = "Represent the user's input."
EMBED_QUERY_INSTRUCTION = "Retrieve images or text relevant to the user's query."
RERANK_DEFAULT_INSTRUCTION = (
    "Given a search query, retrieve relevant candidates that answer the query."
)
RERANK_SYSTEM = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
    'Note that the answer can only be "yes" or "no".'
)

# Renders one structured (or flat string) message content the way the Qwen3-VL template does:
# images/videos become <|vision_start|><|image_pad|><|vision_end|>, texts are concatenated as-is.
_CONTENT_MACRO = (
    "{%- macro render(content) -%}"
    "{%- if content is string -%}{{- content -}}"
    "{%- else -%}{%- for item in content -%}"
    "{%- if item.type == 'image' or 'image' in item or 'image_url' in item -%}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif item.type == 'video' or 'video' in item -%}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif 'text' in item -%}{{- item.text -}}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
)

# Qwen3-VL chat template (ChatML, structured content) with the embedder's default system prompt.
EMBED_CHAT_TEMPLATE = (
    _CONTENT_MACRO + "{%- if not messages or messages[0].role != 'system' -%}"
    "{{- '<|im_start|>system\\n" + EMBED_DOC_INSTRUCTION.replace("'", "\\'") + "<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message.role + '\\n' -}}{{- render(message.content) -}}{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# Qwen3-VL-Reranker prompt: fixed system prompt; user turn
# "<Instruct>: {instruction}<Query>:{query}\n<Document>:{document}"; instruction = the content of a
# system message (what CrossEncoder's `prompt=` becomes) or the official default.
# Plain ChatML user turns (no query/document roles) are rendered as-is.
RERANK_CHAT_TEMPLATE = (
    _CONTENT_MACRO
    + "{%- set ns = namespace(instruction='"
    + RERANK_DEFAULT_INSTRUCTION
    + "', query=none, document=none) -%}"
    "{%- for message in messages -%}"
    "{%- if message.role == 'system' -%}{%- set ns.instruction = render(message.content) -%}"
    "{%- elif message.role == 'query' -%}{%- set ns.query = message.content -%}"
    "{%- elif message.role == 'document' -%}{%- set ns.document = message.content -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{{- '<|im_start|>system\\n"
    + RERANK_SYSTEM.replace('"', '\\"').replace("'", "\\'")
    + "<|im_end|>\\n' -}}"
    "{{- '<|im_start|>user\\n' -}}"
    "{%- if ns.query is not none or ns.document is not none -%}"
    "{{- '<Instruct>: ' + ns.instruction + '<Query>:' -}}{{- render(ns.query or '') -}}"
    "{{- '\\n<Document>:' -}}{{- render(ns.document or '') -}}"
    "{%- else -%}"
    "{%- for message in messages if message.role not in ('system', 'query', 'document') -%}"
    "{{- render(message.content) -}}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# Real Qwen3-VL processor files (image/video defaults of Qwen3-VL-2B), except for the tiny pixel
# budget: min 32*32 (one 2x2 group of 16px patches = 1 visual token), max 128*128 (16 tokens).
TINY_MIN_PIXELS = 32 * 32
TINY_MAX_PIXELS = 128 * 128


def _preprocessor_config(min_pixels: int, max_pixels: int) -> dict:
    return {
        "size": {"longest_edge": max_pixels, "shortest_edge": min_pixels},
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "processor_class": "Qwen3VLProcessor",
        "image_processor_type": "Qwen2VLImageProcessorFast",
    }


def _video_preprocessor_config(min_pixels: int, max_pixels: int) -> dict:
    return {
        "size": {"longest_edge": 4 * max_pixels, "shortest_edge": min_pixels},
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "processor_class": "Qwen3VLProcessor",
        "video_processor_type": "Qwen3VLVideoProcessor",
    }


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def _build_tokenizer():
    """A deterministic byte-level BPE (Qwen pre-tokenizer) wrapped as transformers' Qwen2Tokenizer."""
    from tokenizers import AddedToken, pre_tokenizers
    from transformers import Qwen2Tokenizer

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    merges: list[tuple[str, str]] = []

    def add(piece: str) -> None:
        current = piece[0]
        for ch in piece[1:]:
            merged = current + ch
            if merged not in vocab:
                merges.append((current, ch))
                vocab[merged] = len(vocab)
            current = merged

    for word in WORDS:
        for variant in (word, " " + word):
            add("".join(tok for tok, _ in byte_level.pre_tokenize_str(variant)))

    tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=262144,
    )
    tok.add_special_tokens(
        {
            "additional_special_tokens": [
                AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS
            ]
        }
    )
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    for word in ("yes", "no"):
        assert tok.tokenize(word) == [word], tok.tokenize(word)
    return tok, ids


ARCHS = {
    # ~0.25 M parameters: the test twins
    "tiny": {
        "text": {
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "rope_theta": 10000.0,
            "mrope_section": [2, 3, 3],
            "initializer_range": 0.1,
        },
        "vision": {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
            "initializer_range": 0.1,
        },
        "pixels": (TINY_MIN_PIXELS, TINY_MAX_PIXELS),
        "dtype": "float32",
    },
    # the Qwen3-VL-2B architecture (for GPU benchmarks with random weights)
    "2b": {
        "text": {
            "hidden_size": 2048,
            "intermediate_size": 6144,
            "num_hidden_layers": 28,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "rope_theta": 5_000_000.0,
            "mrope_section": [24, 20, 20],
            "vocab_size": 151936,
            "initializer_range": 0.02,
        },
        "vision": {
            "depth": 24,
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_heads": 16,
            "out_hidden_size": 2048,
            "num_position_embeddings": 2304,
            "deepstack_visual_indexes": [5, 11, 17],
            "initializer_range": 0.02,
        },
        "pixels": (65536, 16777216),
        "dtype": "bfloat16",
    },
}


def _build_hf_checkpoint(out: Path, chat_template: str, seed: int, arch: str = "tiny") -> dict:
    """Write config.json, model.safetensors, tokenizer and processor files. Returns token ids."""
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    spec = ARCHS[arch]
    tok, ids = _build_tokenizer()
    text = dict(spec["text"])
    rope = {
        "rope_type": "default",
        "rope_theta": text.pop("rope_theta"),
        "mrope_section": text.pop("mrope_section"),  # sums to head_dim / 2
        "mrope_interleaved": True,
    }
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(tok),
            **text,
            "max_position_embeddings": 262144,
            "rope_parameters": rope,
            "pad_token_id": ids["<|endoftext|>"],
            "bos_token_id": None,
            "eos_token_id": ids["<|im_end|>"],
            "dtype": spec["dtype"],
        },
        vision_config={
            **spec["vision"],
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,  # as in the 2B checkpoints
    )
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, spec["dtype"]))
    try:
        model = Qwen3VLForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    _write_json(out / "preprocessor_config.json", _preprocessor_config(*spec["pixels"]))
    _write_json(out / "video_preprocessor_config.json", _video_preprocessor_config(*spec["pixels"]))
    (out / "chat_template.jinja").write_text(chat_template, encoding="utf-8")
    # A saved tokenizer also carries the template: keep exactly one source of truth.
    tok_cfg_path = out / "tokenizer_config.json"
    tok_cfg = json.loads(tok_cfg_path.read_text())
    tok_cfg.pop("chat_template", None)
    tok_cfg["processor_class"] = "Qwen3VLProcessor"
    _write_json(tok_cfg_path, tok_cfg)
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "ids": ids,
        "yes": tok.convert_tokens_to_ids("yes"),
        "no": tok.convert_tokens_to_ids("no"),
        "n_params": n_params,
        "hidden": config.text_config.hidden_size,
    }


def _st_version_block() -> dict:
    import sentence_transformers
    import torch
    import transformers

    return {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "pytorch": torch.__version__,
    }


def _fresh_dir(path: Path) -> Path:
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ----------------------------------------------------------------------------------------------
# Public builders
# ----------------------------------------------------------------------------------------------

_MODALITY_CONFIG = {
    modality: {"method": "forward", "method_output_name": "last_hidden_state"}
    for modality in ("text", "image", "video", "message")
}


def _transformer_config(task: str, output_name: str, method_output: str, st_version: str) -> dict:
    modality_config = {
        k: {"method": "forward", "method_output_name": method_output} for k in _MODALITY_CONFIG
    }
    config = {
        "transformer_task": task,
        "modality_config": modality_config,
        "module_output_name": output_name,
    }
    if st_version == "5.4":  # how ST 5.4 (used for the hub integration) saved it
        config["message_format"] = "structured"
    elif st_version == "6.2":  # how the installed ST 6.2 saves it
        modality_config["message"]["format"] = "structured"
    else:
        raise ValueError(f"st_version must be '5.4' or '6.2', got {st_version!r}")
    config["processing_kwargs"] = {"chat_template": {"add_generation_prompt": True}}
    return config


def _write_modules(out: Path, *heads: tuple[str, str]) -> None:
    """modules.json: the Transformer at the root, then each (folder, class) head in order."""
    modules = [("", "sentence_transformers.base.modules.transformer.Transformer"), *heads]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": kind}
            for i, (path, kind) in enumerate(modules)
        ],
    )


def build_embedder(dir: Path, st_version: str = "5.4", arch: str = "tiny") -> Path:
    """Tiny Qwen3-VL-Embedding-2B look-alike: Transformer -> Pooling(lasttoken) -> Normalize.

    ``st_version="5.4"`` (default) writes sentence_bert_config.json the way the hub checkpoint was
    saved (top-level ``message_format``: needs :func:`make_st54_configs_loadable` on ST 6.x);
    ``"6.2"`` writes what the installed ST 6.2 itself saves.
    """
    out = _fresh_dir(dir)
    info = _build_hf_checkpoint(out, EMBED_CHAT_TEMPLATE, seed=0, arch=arch)
    config = _transformer_config(
        "feature-extraction", "token_embeddings", "last_hidden_state", st_version
    )
    config["unpad_inputs"] = False
    _write_json(out / "sentence_bert_config.json", config)
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "embedding_dimension": info["hidden"],
            "pooling_mode": "lasttoken",
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    if st_version == "6.2":
        _write_json(
            out / "2_Normalize" / "config.json",
            {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
        )
    _write_modules(
        out,
        ("1_Pooling", "sentence_transformers.sentence_transformer.modules.pooling.Pooling"),
        ("2_Normalize", "sentence_transformers.base.modules.normalize.Normalize"),
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "__version__": _st_version_block(),
            "prompts": {"query": EMBED_QUERY_INSTRUCTION, "document": EMBED_DOC_INSTRUCTION},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    return out


def build_reranker(dir: Path, st_version: str = "5.4", arch: str = "tiny") -> Path:
    """Tiny Qwen3-VL-Reranker-2B look-alike: Transformer(any-to-any) -> LogitScore(yes, no).

    ``st_version`` as in :func:`build_embedder`.
    """
    out = _fresh_dir(dir)
    info = _build_hf_checkpoint(out, RERANK_CHAT_TEMPLATE, seed=1, arch=arch)
    _write_json(
        out / "sentence_bert_config.json",
        _transformer_config("any-to-any", "causal_logits", "logits", st_version),
    )
    _write_json(
        out / "1_LogitScore" / "config.json",
        {
            "true_token_id": info["yes"],
            "false_token_id": info["no"],
            "module_input_name": "causal_logits",
        },
    )
    _write_modules(
        out,
        ("1_LogitScore", "sentence_transformers.cross_encoder.modules.logit_score.LogitScore"),
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "CrossEncoder",
            "__version__": _st_version_block(),
            "prompts": {},
            "default_prompt_name": None,
            "activation_fn": "torch.nn.modules.activation.Sigmoid",
        },
    )
    return out
