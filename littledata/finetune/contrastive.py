"""Contrastive fine-tuning of a sentence encoder on labeled pairs (SetFit's recipe), and SimCSE.

SetFit (Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts") turns a few labeled
rows into many sentence pairs: a pair of rows of the same class should embed close (target
cosine 1), a pair of different classes far apart (target 0). The encoder's body is trained on
these pairs with a mean squared error on the cosine similarity (sentence-transformers'
``CosineSimilarityLoss``); a classifier is then fitted on the tuned embeddings.

:func:`make_pairs` draws the pairs (``iterations`` positive and negative pairs per row, as
SetFit's ``num_iterations``, capped at ``max_pairs``); :func:`train_pairs` runs the training;
:func:`train_simcse` adapts an encoder to unlabeled texts with unsupervised SimCSE (Gao et al.
2021: the same text twice under different dropout is the positive pair, the batch's other texts
the negatives).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError
from littledata.finetune.encoder import SentenceEncoder

__all__ = ["make_pairs", "train_pairs", "train_simcse"]


def make_pairs(
    y: np.ndarray, *, iterations: int, max_pairs: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of row positions and their targets (1.0 same class, 0.0 different classes).

    Each of ``iterations`` rounds gives every row one partner of its class (another row when the
    class has one) and one of another class, so the count is ``2 * iterations * len(y)``, then
    capped at ``max_pairs`` by a seeded sample keeping positives and negatives balanced.
    """
    y = np.asarray(y)
    if iterations < 1 or max_pairs < 2:
        raise ConfigError(
            f"iterations must be >= 1 and max_pairs >= 2 (got {iterations}, {max_pairs}); "
            "zero pairs would train nothing"
        )
    rng = np.random.default_rng(seed)
    members = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    others = {c: np.flatnonzero(y != c) for c in members}
    left, right, target = [], [], []
    for _ in range(iterations):
        for i, c in enumerate(y):
            same = members[c][members[c] != i]
            left += [i, i]
            right += [int(rng.choice(same)) if len(same) else i, int(rng.choice(others[c]))]
            target += [1.0, 0.0]
    a, b, t = np.array(left), np.array(right), np.array(target, dtype=np.float32)
    if len(t) > max_pairs:
        pos, neg = np.flatnonzero(t == 1.0), np.flatnonzero(t == 0.0)
        keep = np.concatenate(
            [rng.choice(pos, max_pairs // 2, replace=False),
             rng.choice(neg, max_pairs - max_pairs // 2, replace=False)]
        )  # fmt: skip
        a, b, t = a[keep], b[keep], t[keep]
    order = rng.permutation(len(t))
    return a[order], b[order], t[order]


def _optimizer(encoder: SentenceEncoder, learning_rate: float, total_steps: int):  # type: ignore[no-untyped-def]
    import torch

    params = encoder.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    warmup = max(1, int(0.1 * total_steps))

    def scale(step: int) -> float:  # linear warm-up, then linear decay (SetFit's default)
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, scale)


def train_pairs(
    encoder: SentenceEncoder,
    texts: Sequence[str],
    y: np.ndarray,
    *,
    iterations: int = 20,
    max_pairs: int = 640,
    batch_size: int = 16,
    learning_rate: float = 2e-5,
    seed: int = 0,
    desc: str = "setfit",
) -> list[float]:
    """Train ``encoder`` on SetFit pairs of ``texts`` (one epoch over the pairs); returns the loss
    of every step. Seeds torch and the pair draw with ``seed``."""
    import torch

    from littledata import progress

    a, b, t = make_pairs(y, iterations=iterations, max_pairs=max_pairs, seed=seed)
    steps = math.ceil(len(t) / batch_size)
    torch.manual_seed(seed)
    opt, sched = _optimizer(encoder, learning_rate, steps)
    encoder.module.train()
    losses: list[float] = []
    with progress.bar(total=steps, desc=desc, unit="step") as bar:
        for start in range(0, len(t), batch_size):
            sl = slice(start, start + batch_size)
            both = encoder.embed([texts[i] for i in a[sl]] + [texts[i] for i in b[sl]])
            u, v = both[: len(a[sl])], both[len(a[sl]) :]
            cos = torch.nn.functional.cosine_similarity(u, v)
            loss = torch.nn.functional.mse_loss(cos, torch.from_numpy(t[sl]))
            losses.append(_step(opt, sched, loss))
            bar.update(1)
    encoder.module.eval()
    return losses


def _step(opt: Any, sched: Any, loss: Any) -> float:
    """One optimizer and schedule step on ``loss``; returns the loss as a number."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    return float(loss.detach())


def train_simcse(
    encoder: SentenceEncoder,
    texts: Sequence[str],
    *,
    steps: int,
    batch_size: int = 32,
    learning_rate: float = 3e-5,
    temperature: float = 0.05,
    seed: int = 0,
) -> list[float]:
    """Unsupervised SimCSE on ``texts`` for ``steps`` batches (seeded); returns the losses.

    Each batch is embedded twice in train mode; dropout makes the two views differ, and an
    InfoNCE loss (cosine similarities over ``temperature``) pulls each text's two views together
    and pushes the other texts of the batch away.
    """
    import torch

    from littledata import progress

    if steps < 1:
        raise ConfigError(f"SimCSE needs at least one step, got steps={steps!r}")
    pool = [str(s) for s in texts if str(s).strip()]
    if len(pool) < 2:
        raise ConfigError("SimCSE needs at least 2 non-empty unlabeled texts")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt, sched = _optimizer(encoder, learning_rate, steps)
    encoder.module.train()
    losses: list[float] = []
    size = min(batch_size, len(pool))
    with progress.bar(total=steps, desc="simcse", unit="step") as bar:
        for _ in range(steps):
            batch = [pool[i] for i in rng.choice(len(pool), size, replace=False)]
            u = torch.nn.functional.normalize(encoder.embed(batch), dim=-1)
            v = torch.nn.functional.normalize(encoder.embed(batch), dim=-1)
            logits = u @ v.T / temperature
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(size))
            losses.append(_step(opt, sched, loss))
            bar.update(1)
    encoder.module.eval()
    return losses
