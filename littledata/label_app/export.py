"""Export a labeling session: every answer as CSV / JSONL / Parquet, the model as a saved model.

Rows are answers, in the order they were given: ``item_id``, ``text``, ``label`` (empty for
``skip`` and ``unsure``), ``kind``, ``annotator``, ``created_at`` (ISO 8601, UTC) and ``source``
(``split:row`` in the data). The model is a
:class:`~littledata.models.classifier.TextClassifier` fitted on the agreed labels and saved as a
folder (``manifest.json`` + ``head.safetensors``) that ``TextClassifier.load`` reads.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from littledata.errors import ConfigError
from littledata.label_app.store import LabelStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMATS", "answers_frame", "export_labels", "export_model", "frame_bytes"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
COLUMNS = ["item_id", "text", "label", "kind", "annotator", "created_at", "source"]


def answers_frame(store: LabelStore) -> pd.DataFrame:
    """Every answer as a table (see the module docstring)."""
    import pandas as pd

    rows = store.answers()
    for r in rows:
        r["created_at"] = dt.datetime.fromtimestamp(r["created_at"], dt.UTC).isoformat(
            timespec="milliseconds"
        )
    return pd.DataFrame(rows, columns=["id", *COLUMNS])[COLUMNS]


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as the bytes of a csv, jsonl or parquet file."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def export_labels(store: LabelStore, out: str | Path) -> Path:
    """Write every answer to ``out`` (.csv, .jsonl or .parquet, by its suffix), atomically."""
    from littledata.io import atomic_write_bytes

    path = Path(out)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"Cannot tell the export format of {path.name}: end it in .csv, .jsonl or .parquet."
        )
    atomic_write_bytes(path, frame_bytes(answers_frame(store), fmt))
    return path


def export_model(store: LabelStore, out: str | Path, *, overwrite: bool = False) -> Path:
    """Fit the session's featurizer and head on the agreed labels and save the model in the
    folder ``out``. Raises a ConfigError before two classes are labeled."""
    from littledata.models import TextClassifier

    meta: dict[str, Any] = store.get_meta()
    featurizer, head = meta.get("featurizer"), meta.get("head", "logreg")
    if not featurizer:
        raise ConfigError("This session's featurizer has no registered name; it cannot be saved.")
    labels = store.training_labels()
    texts = store.texts()
    rows = sorted(labels)
    if len({labels[r] for r in rows}) < 2:
        raise ConfigError("A model needs labels of two classes at least; label some more first.")
    model = TextClassifier(featurizer=featurizer, head=head, random_state=int(meta.get("seed", 0)))
    model.fit([texts[r] for r in rows], [labels[r] for r in rows])
    return model.save(out, overwrite=overwrite)
