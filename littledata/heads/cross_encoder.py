"""``cross-encoder``: the encoder reads both texts of a pair together and is fine-tuned with a
linear classification head (sentence pairs only).

A bi-encoder (every other head on pairs) embeds each text alone and the head sees
``[u, v, |u - v|, u * v]``; the words of one text never meet the other's inside the
transformer. A cross-encoder feeds the pair as one input, the tokenizer's pair encoding
(``[CLS] a [SEP] b [SEP]``, token types 0 and 1), so attention compares the two texts word by
word; it needs fine-tuning to learn the relation, and each prediction runs the encoder on the
pair (no feature of one text is reused). Training is :class:`~littledata.heads.tuned.
FineTuneHead`'s (:func:`littledata.finetune.ulmfit.train_classifier`): the same slanted
triangular schedule, gradual unfreezing, step cap, seeds, threads and progress bar, on the
pooled embedding of the joint input (see ``docs/finetuning.md``).

>>> from littledata.heads import make_head
>>> head = make_head("cross-encoder", input_kind="text", encoder="minilm")  # doctest: +SKIP
>>> pairs = [["a cat sat", "a cat was sitting"], ["a cat sat", "stocks fell"]]
>>> head.fit(pairs, ["same", "different"])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError
from littledata.heads.tuned import FineTuneHead

__all__ = ["CrossEncoderHead", "text_pairs"]


def text_pairs(X: Any) -> list[tuple[str, str]]:
    """``X`` as a list of ``(first, second)`` text pairs: ``(n, 2)`` strings (a list of pairs or
    an object array), or a clear :class:`~littledata.errors.DataFormatError`."""
    arr = np.asarray(X, dtype=object)
    if arr.ndim != 2 or arr.shape[1] != 2:
        rows = [r for r in arr if not isinstance(r, str) and np.ndim(r) == 1 and len(r) != 2]
        got = f"a row of {len(rows[0])} texts" if rows else f"shape {arr.shape}"
        raise DataFormatError(
            "the cross-encoder reads pairs of texts (n rows of [first text, second text], a "
            f"sentence-pair dataset's examples); got {got}. For one text per example use "
            "'finetune' or 'setfit'."
        )
    for i, row in enumerate(arr):
        for side, text in zip(("first", "second"), row, strict=True):
            if not isinstance(text, str):
                raise DataFormatError(
                    f"the cross-encoder reads pairs of texts; the {side} text of row {i} is a "
                    f"{type(text).__name__}"
                )
    return [(str(a), str(b)) for a, b in arr]


class CrossEncoderHead(FineTuneHead):
    """Fine-tunes the encoder on pairs of texts read together (a cross-encoder) with a linear
    head; see the module docstring.

    ``fit(X, y)`` and ``predict_proba(X)`` take ``X`` as ``n`` pairs ``[first, second]``.
    Parameters are :class:`~littledata.heads.tuned.FineTuneHead`'s; ``max_length`` counts the
    tokens of both texts together (the longer text is cut first). ``simcse_steps`` must stay 0:
    domain adaptation embeds single texts. ``epochs=None`` means 10 passes here (the setting
    measured in ``benchmarks/cross_encoder.py``; pairs are many rows, so the step cap decides).
    """

    _default_epochs = 10

    def _inputs(self, X: Any) -> list[Any]:
        return text_pairs(X)

    def _load_encoder(self) -> Any:
        from littledata.finetune.encoder import load_tunable

        return load_tunable(self.encoder, max_length=self.max_length, pairs=True)

    def _check_params(self) -> None:
        super()._check_params()
        if int(self.simcse_steps) > 0:
            raise ConfigError(
                "the cross-encoder has no domain-adaptation step (SimCSE embeds single texts); "
                f"got simcse_steps={self.simcse_steps!r}. Leave it at 0."
            )
