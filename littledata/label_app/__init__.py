"""The labeling app: people label what the model asks for, the model retrains while they work.

- :mod:`littledata.label_app.store`: the database (SQLAlchemy; items, answers, leases, rounds);
- :mod:`littledata.label_app.session`: the labeling session (the store, the pool's features, the
  :class:`~littledata.active.learner.ActiveLearner` retrained in a worker process);
- :mod:`littledata.label_app.start`: opening a new or resumed session from data;
- :mod:`littledata.label_app.api`: the FastAPI app (JSON API + the page in ``static/``);
- :mod:`littledata.label_app.annotators`: per-annotator tokens (who labels, from the token);
- :mod:`littledata.label_app.export`: answers to CSV / JSONL / Parquet, the model as a saved model.

FastAPI and uvicorn are imported only by ``api`` (and the command), never by this package.
See docs/labeling.md.
"""
