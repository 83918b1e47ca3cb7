"""Export an active-learning session's model as a saved model folder (``littledata predict``,
``littledata serve`` and :func:`littledata.models.load_model` read it).

The exported model is a :class:`~littledata.models.TextClassifier` with the session's featurizer
and head, fitted on the labeled pool rows' features (the very rows the learner fits on), with the
cross-validated metrics of those labels in its manifest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import ConfigError

__all__ = ["export_model"]


def export_model(
    learner: Any,
    path: str | os.PathLike[str],
    *,
    folds: int = 5,
    overwrite: bool = False,
) -> Path:
    """Fit a :class:`~littledata.models.TextClassifier` on ``learner``'s labels and save it.

    Parameters
    ----------
    learner : ActiveLearner
        A session with a featurizer and a registered head name, and labels of two classes.
    path : path
        The model folder to write.
    folds : int, default=5
        Cross-validation folds for the metrics in the manifest (capped by the rarest class).
    overwrite : bool, default=False
        Replace ``path`` if it is a saved model.

    Raises
    ------
    ConfigError
        The session is not single-label, has no featurizer (a features-only pool), its head
        is an estimator object rather than a registered name or fine-tunes its encoder, or its
        labels hold fewer than two classes.
    """
    from littledata.models import TextClassifier
    from littledata.models.training import cross_validate_head

    if learner.task.query_task != "single-label":
        raise ConfigError(
            f"Exporting a {learner.task.name} session as a model folder is not built yet; "
            "learner.model is the fitted head, and 'littledata train' fits a saved model on a "
            "labeled file."
        )
    if learner.featurizer is None:
        raise ConfigError(
            "This learner was built from features, without a featurizer: a saved model must "
            "name the featurizer that turns texts into its features."
        )
    if not isinstance(learner.head, str):
        raise ConfigError(
            f"Only a registered head (logreg, svm, ...) can be saved; this learner's head is a "
            f"{type(learner.head).__name__} object."
        )
    if getattr(learner, "tuned", False):
        raise ConfigError(
            f"Exporting a session whose head ({learner.head!r}) fine-tunes its encoder is not "
            "built yet; save the labels (learner.save) and fit the model on them with "
            "'littledata train --head ...'."
        )
    labels = np.asarray(learner.labels)
    if len(np.unique(labels)) < 2:
        raise ConfigError(
            f"The labels so far hold {len(np.unique(labels))} class(es); label examples of at "
            "least two classes before exporting a model."
        )
    model = TextClassifier(
        featurizer=learner._get_featurizer(),
        head=learner.head,
        head_params=learner.head_params or None,
        random_state=learner.seed,
        featurizer_options=learner.featurizer_options or None,
    )
    X = np.asarray(learner.features[learner.labeled_indices])
    model.fit_features(X, labels)
    model.metrics_ = {
        "cv": cross_validate_head(model.head_, X, labels, folds=folds, seed=learner.seed)
    }
    model.training_data_ = {
        **model.training_data_,
        "source": {"active_learner": dict(learner.pool_source)},
        "pool_rows": learner.n_pool,
    }
    return model.save(path, overwrite=overwrite)
