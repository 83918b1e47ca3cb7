"""``minilm``, the default featurizer: fp32 PyTorch (:mod:`littledata.features.transformer`), or
with ``fast=True`` the int8 ONNX fast path (:mod:`littledata.features.onnx_int8`).

Its own module because it chooses between the two: the int8 path is built from the fp32 model, so
``onnx_int8`` imports ``transformer``, and this entry, which imports both, keeps ``transformer``
from importing ``onnx_int8`` back.
"""

from __future__ import annotations

from typing import Any

from littledata.features.base import register
from littledata.features.encoder import EncoderFeaturizer
from littledata.features.onnx_int8 import make_minilm_int8
from littledata.features.transformer import from_pretrained


@register(
    "minilm",
    description="all-MiniLM-L6-v2 sentence embeddings (fp32, mean pooled, L2-normalised); default; "
    "fast=True gives the int8 fast path",
    dim=384,
    aliases=("default",),
)
def _minilm(*, fast: bool = False, **options: Any) -> EncoderFeaturizer:
    if fast:
        return make_minilm_int8(**options)
    return from_pretrained("minilm", name="minilm", **options)
