"""A sentence encoder that can be trained: a featurizer's transformer with its pooling, in torch.

:func:`load_tunable` takes a featurizer name (``minilm``, ``mpnet``, a sentence-transformers id or
folder) and returns a :class:`SentenceEncoder`: the same weights, pooling and normalization the
featurizer uses, as a ``torch.nn.Module`` whose embeddings carry gradients. Featurizers without
trainable weights (tf-idf, GloVe, spaCy, the int8 ONNX path) get a :class:`~littledata.errors.
ConfigError` saying why and which featurizer to use instead.

Texts longer than ``max_length`` tokens are truncated here (the frozen featurizer windows them):
fine-tuning trains on what it sees, and prediction must embed the same way.

``load_tunable(name, pairs=True)`` gives a **cross-encoder** input: each example is a pair of
texts, encoded together as the tokenizer's pair encoding (``[CLS] a [SEP] b [SEP]`` with token
type ids 0 and 1 for BERT-style models; the longer text is cut first when the pair is over
``max_length``), then pooled as the featurizer pools one text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = ["SentenceEncoder", "TunableSource", "load_tunable", "torch_threads"]

ENCODER_PREFIX = "encoder/"
"""Prefix of the tuned encoder's tensors in a head's saved state."""


@dataclass(frozen=True)
class TunableSource:
    """Where a tunable encoder comes from: the featurizer's name, fingerprint and folder."""

    name: str
    fingerprint: str
    path: str
    pooling: str
    normalize: bool
    lowercase: bool
    max_length: int


def _refusal(name: str, fz: Any) -> ConfigError:
    kind = getattr(fz, "kind", "")
    if kind in ("sparse", "text"):
        why = "tf-idf has no encoder weights to tune"
    elif getattr(fz, "precision", "") == "int8" or "onnx" in type(fz).__name__.lower():
        why = "it is an ONNX export (int8 or fp32) run by onnxruntime, which cannot train"
    else:
        why = "its vectors are static (word vectors), not a trainable transformer"
    return ConfigError(
        f"featurizer {name!r} cannot be fine-tuned: {why}. Use a PyTorch transformer encoder "
        "such as 'minilm' (default) or 'mpnet', a sentence-transformers id, or a model folder."
    )


def tunable_source(name: str) -> TunableSource:
    """The transformer behind featurizer ``name``, or a ConfigError when it cannot be trained."""
    from littledata.features import get_featurizer
    from littledata.features.transformer import TransformerFeaturizer

    if not isinstance(name, str) or not name:
        raise ConfigError(f"encoder must be a featurizer name, got {name!r}")
    fz = get_featurizer(name)
    if not isinstance(fz, TransformerFeaturizer):
        raise _refusal(name, fz)
    return TunableSource(
        name=str(fz.name),
        fingerprint=str(fz.fingerprint),
        path=str(fz.path),
        pooling=fz.config.pooling,
        normalize=bool(fz.config.normalize),
        lowercase=bool(fz.config.do_lower_case),
        max_length=int(fz.config.max_length),
    )


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` inside the block (None: left alone)."""
    import torch

    if not threads:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _module_class() -> type:
    import torch

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any, pooling: str, normalize: bool) -> None:
            super().__init__()
            self.model = model
            self.pooling = pooling
            self.normalize = normalize

        def forward(self, batch: dict[str, Any]) -> Any:
            out = self.model(**batch).last_hidden_state
            if self.pooling == "cls":
                vec = out[:, 0]
            else:
                mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
                vec = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.normalize:
                vec = torch.nn.functional.normalize(vec, dim=-1)
            return vec

    return _Encoder


class SentenceEncoder:
    """A trainable sentence encoder: tokenizer, transformer and pooling (see the module doc).

    Attributes
    ----------
    source : TunableSource
        The featurizer it was loaded from.
    module : torch.nn.Module
        ``module(batch)`` maps a tokenized batch to pooled (normalized when the model is)
        embeddings with gradients.
    max_length : int
        Tokens per text (per pair when ``pairs``), special tokens included (longer texts are
        truncated).
    pairs : bool
        Each example is a pair of texts encoded together (a cross-encoder; see the module doc).
    """

    def __init__(
        self, source: TunableSource, *, max_length: int = 128, pairs: bool = False
    ) -> None:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if not 8 <= int(max_length) <= source.max_length:
            raise ConfigError(
                f"max_length must be between 8 and {source.max_length} for {source.name}, "
                f"got {max_length!r}"
            )
        self.source = source
        self.max_length = int(max_length)
        self.pairs = bool(pairs)
        self.tokenizer = AutoTokenizer.from_pretrained(source.path)
        was = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = AutoModel.from_pretrained(source.path)
        finally:
            if was:
                hf_logging.enable_progress_bar()
        self.module = _module_class()(model, source.pooling, source.normalize)
        self._token_types = "token_type_ids" in self.tokenizer.model_input_names

    @property
    def dim(self) -> int:
        return int(self.module.model.config.hidden_size)

    def _clean(self, texts: Sequence[Any]) -> list[str]:
        clean = [str(t) for t in texts]
        return [t.lower() for t in clean] if self.source.lowercase else clean

    def tokenize(self, texts: Sequence[Any]) -> dict[str, Any]:
        """A padded, truncated batch of token ids for ``module`` (``texts``: pairs of texts when
        the encoder reads :attr:`pairs`, tokenized together as the tokenizer's text pairs)."""
        sides: tuple[list[str], ...]
        if self.pairs:
            sides = (self._clean([p[0] for p in texts]), self._clean([p[1] for p in texts]))
        else:
            sides = (self._clean(texts),)
        batch = dict(
            self.tokenizer(
                *sides,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
        )
        if not self._token_types:
            batch.pop("token_type_ids", None)
        return batch

    def embed(self, texts: Sequence[str]) -> Any:
        """Embeddings of ``texts`` with gradients (the module in its current train/eval mode)."""
        return self.module(self.tokenize(texts))

    def encode(self, texts: Sequence[Any], *, batch_size: int = 64) -> np.ndarray:
        """float32 ``(n, dim)`` embeddings, no gradients, dropout off; batches of similar length
        (``texts``: pairs of texts when the encoder reads :attr:`pairs`)."""
        import torch

        texts = [(str(t[0]), str(t[1])) for t in texts] if self.pairs else [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len("".join(t)) for t in texts], kind="stable")
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                for start in range(0, len(texts), batch_size):
                    idx = order[start : start + batch_size]
                    vec = self.embed([texts[i] for i in idx])
                    out[idx] = vec.float().numpy()
        finally:
            self.module.train(was_training)
        return out

    def layer_groups(self) -> list[list[Any]]:
        """The encoder's trainable parameters in groups from the bottom up: embeddings (and
        anything outside the transformer layers) first, then one group per layer. The pooler
        that mean-pooling models never use is left out."""
        import re

        n_layers = int(self.module.model.config.num_hidden_layers)
        groups: list[list[Any]] = [[] for _ in range(n_layers + 1)]
        for name, param in self.module.model.named_parameters():
            if name.startswith("pooler."):
                continue
            found = re.search(r"(?:^|\.)layers?\.(\d+)\.", name)
            groups[int(found.group(1)) + 1 if found else 0].append(param)
        return [g for g in groups if g]

    def trainable_parameters(self) -> list[Any]:
        """Every parameter :meth:`layer_groups` holds."""
        return [p for group in self.layer_groups() for p in group]

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The transformer's tensors as float32 numpy arrays, keyed ``encoder/<name>``."""
        return {
            f"{ENCODER_PREFIX}{k}": v.detach().cpu().numpy().copy()
            for k, v in self.module.model.state_dict().items()
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Load :meth:`state_arrays` back (every tensor must be there, with its shape)."""
        import torch

        own = self.module.model.state_dict()
        given = {
            k[len(ENCODER_PREFIX) :]: v for k, v in arrays.items() if k.startswith(ENCODER_PREFIX)
        }
        if set(given) != set(own):
            missing = sorted(set(own) - set(given))[:3]
            extra = sorted(set(given) - set(own))[:3]
            raise DataFormatError(
                f"the saved encoder does not fit {self.source.name}: missing {missing}, "
                f"unexpected {extra}"
            )
        tensors = {}
        for k, v in given.items():
            if tuple(v.shape) != tuple(own[k].shape):
                raise DataFormatError(
                    f"the saved encoder tensor {k} has shape {v.shape}, {self.source.name} "
                    f"needs {tuple(own[k].shape)}"
                )
            tensors[k] = torch.from_numpy(np.array(v, copy=True)).to(own[k].dtype)
        self.module.model.load_state_dict(tensors)


def load_tunable(name: str, *, max_length: int = 128, pairs: bool = False) -> SentenceEncoder:
    """A fresh trainable copy of the encoder behind featurizer ``name`` (see the module doc;
    ``pairs``: a cross-encoder over pairs of texts)."""
    return SentenceEncoder(tunable_source(name), max_length=max_length, pairs=pairs)
