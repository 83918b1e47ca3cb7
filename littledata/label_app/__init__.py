"""The labeling app: people label what the model asks for, the model retrains while they work.

- :mod:`littledata.label_app.store`: the database (SQLAlchemy; items, answers, leases, rounds);
- :mod:`littledata.label_app.session`: the labeling session (the store, the pool's features, the
  :class:`~littledata.active.learner.ActiveLearner` retrained by a worker thread);
- :mod:`littledata.label_app.api`: the FastAPI app (JSON API + the page in ``static/``);
- :mod:`littledata.label_app.export`: labels to CSV / JSONL / Parquet, the model as a saved model.

FastAPI and uvicorn are imported only when the app is built.
"""
