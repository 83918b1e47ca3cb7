"""ULMFiT-style fine-tuning of a sentence encoder with a linear classification head.

Howard and Ruder (2018, "Universal Language Model Fine-tuning for Text Classification") make
fine-tuning on small data work with three tricks, all options of :func:`train_classifier`:

- discriminative learning rates: layer ``l`` from the top learns at ``lr / layer_decay**l``
  (2.6 in the paper; 1.0, the default here, turns it off: with the few dozen steps a few-shot
  fit takes, 2.6 left the lower layers all but frozen and lost accuracy in the ablation of
  ``benchmarks/finetune.py``), so the lower, more general layers move least;
- a slanted triangular schedule (:func:`stlr`): a short linear rise to the peak rate over
  ``cut_frac`` of the steps, then a long linear fall to ``1/ratio`` of it;
- gradual unfreezing: first only the classification head trains, then one more encoder layer
  from the top joins every ``unfreeze_fraction * steps / layers`` steps.

The head is a linear layer on the pooled (normalized) embedding, initialised from the class
means of the frozen embeddings times ``scale`` (a cosine nearest-centroid classifier), so the
first steps already start from a sensible classifier instead of random weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError
from littledata.finetune.encoder import SentenceEncoder

__all__ = ["SCHEDULES", "stlr", "train_classifier"]

SCHEDULES: tuple[str, ...] = ("stlr", "constant")


def stlr(step: int, total: int, *, cut_frac: float = 0.1, ratio: float = 32.0) -> float:
    """The slanted triangular learning-rate multiplier (ULMFiT, eq. 3) at ``step`` of ``total``."""
    cut = max(1, math.floor(total * cut_frac))
    p = step / cut if step < cut else 1 - (step - cut) / max(1, cut * (1 / cut_frac - 1))
    return max(0.0, (1 + p * (ratio - 1)) / ratio)


def centroid_init(
    encoder: SentenceEncoder, texts: Sequence[str], y: np.ndarray, k: int, scale: float
):  # type: ignore[no-untyped-def]
    """A linear head whose rows are the normalized class means of the frozen embeddings."""
    import torch

    emb = encoder.encode(texts)
    means = np.stack([emb[y == c].mean(axis=0) for c in range(k)])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    head = torch.nn.Linear(emb.shape[1], k)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(means * scale))
        head.bias.zero_()
    return head


def train_classifier(
    encoder: SentenceEncoder,
    texts: Sequence[str],
    y: np.ndarray,
    n_classes: int,
    *,
    epochs: int = 10,
    batch_size: int = 16,
    max_steps: int = 200,
    learning_rate: float = 5e-5,
    head_learning_rate: float = 1e-3,
    layer_decay: float = 1.0,
    schedule: str = "stlr",
    gradual_unfreezing: bool = True,
    unfreeze_fraction: float = 0.5,
    scale: float = 20.0,
    class_weight: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[Any, list[float]]:
    """Fine-tune ``encoder`` with a new linear head on ``texts`` and class positions ``y``.

    Returns the trained head (``torch.nn.Linear``) and the loss of every step. The step count is
    ``min(max_steps, epochs * ceil(len(texts) / batch_size))``.
    """
    import torch

    from littledata import progress

    if schedule not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if layer_decay < 1.0:
        raise ConfigError(f"layer_decay must be >= 1 (1 turns it off), got {layer_decay!r}")
    per_epoch = math.ceil(len(texts) / batch_size)
    total = min(int(max_steps), int(epochs) * per_epoch)
    if total < 1:
        raise ConfigError(
            f"fine-tuning needs at least one step; got epochs={epochs!r}, max_steps={max_steps!r}"
        )
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = centroid_init(encoder, texts, y, n_classes, scale)
    groups = encoder.layer_groups()  # bottom up
    top = len(groups) - 1
    param_groups = [{"params": head.parameters(), "lr": head_learning_rate}]
    for i, group in enumerate(groups):
        param_groups.append({"params": group, "lr": learning_rate / layer_decay ** (top - i)})
    opt = torch.optim.AdamW(param_groups, weight_decay=0.01)
    if schedule == "stlr":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: stlr(s, total))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
    every = max(1, math.floor(unfreeze_fraction * total / len(groups)))

    def set_unfrozen(step: int) -> None:
        thawed = len(groups) if not gradual_unfreezing else min(len(groups), step // every)
        for i, group in enumerate(groups):
            for p in group:
                p.requires_grad_(i > top - thawed)

    encoder.module.train()
    losses: list[float] = []
    order = np.array([], dtype=np.int64)
    try:
        with progress.bar(total=total, desc="finetune", unit="step") as bar:
            for step in range(total):
                if len(order) < batch_size:
                    order = np.concatenate([order, rng.permutation(len(texts))])
                idx, order = order[:batch_size], order[batch_size:]
                set_unfrozen(step)
                logits = head(encoder.embed([texts[i] for i in idx]))
                target = torch.from_numpy(np.asarray(y[idx], dtype=np.int64))
                loss = torch.nn.functional.cross_entropy(logits, target, weight=weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
                bar.update(1)
    finally:
        for p in encoder.trainable_parameters():
            p.requires_grad_(True)
        encoder.module.eval()
    return head, losses
