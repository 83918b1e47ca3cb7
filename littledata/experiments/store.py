"""The results store: every benchmark trial and active-learning run, with its full configuration.

One database (SQLite in the data home by default, any SQLAlchemy URL otherwise) holds:

``trials``        one row per trial: ``kind`` ("bench" or "active"), ``key`` (sha256 of the
                  canonical configuration, unique per kind), the configuration as JSON, the
                  library versions, the time it was stored and ``collapsed``: whether the
                  trial's test predictions collapsed onto one class
                  (:mod:`littledata.experiments.collapse`; NULL when not checked, e.g. trials
                  stored before the check existed, or active-learning runs);
``measurements``  one row per trial and metric (``metric``, ``value`` and an optional step ``x``);
``failures``      the last error of each trial that raised (cleared when the trial later succeeds);
``runs``          one row per benchmark run: its spec, caps and summary (shown at the bottom of the
                  report);
``claims``        the trials that a run is computing right now (``owner``: host, pid and start of
                  the claiming process; ``expires``: renewed while it lives), so that runs executing
                  at the same time share the work (see :mod:`littledata.experiments.claims`).

Each trial is written in one transaction together with all its measurements, so a process killed
at any moment (even with SIGKILL) leaves either the complete trial or nothing; the unique
constraint on ``(kind, key)`` means a trial is never stored twice, even by two processes at once.
SQLite runs in WAL mode with a busy timeout, so readers (``littledata results``) never block the
writer. A store written by an older littledata is migrated in place when opened (a missing column
is added, every stored row kept; see :data:`~littledata.experiments.store_tables.MIGRATIONS`).

Examples
--------
>>> store = ResultsStore("sqlite://")  # in memory
>>> config = {"dataset": "sst2", "head": "logreg", "size": 20, "seed": 0}
>>> store.add_trial(kind="bench", key=trial_key(config), config=config,
...                 measurements=[Measurement("accuracy", 0.75)])
True
>>> store.frame("bench", head="logreg")[["dataset", "metric", "value"]].to_dict("records")
[{'dataset': 'sst2', 'metric': 'accuracy', 'value': 0.75}]

Why this module is longer than the project's ~600-line guide: it is the one class that reads and
writes the tables, and its methods share transactions and the claim protocol; the tables,
migrations and engine already live in :mod:`littledata.experiments.store_tables`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from littledata.experiments.store_tables import (
    MIGRATIONS,
    claims_table,
    failures_table,
    is_sqlite_memory,
    make_engine,
    measurements_table,
    metadata,
    runs_table,
    trials_table,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["Measurement", "ResultsStore", "canonical_json", "default_url", "trial_key"]

BASE_COLUMNS = ("key", "created", "metric", "x", "value")
FLAG_COLUMN = "collapsed"
"""The trial flag :meth:`ResultsStore.frame` and :meth:`ResultsStore.trials` carry beside the
configuration (see :mod:`littledata.experiments.collapse`)."""
_CHUNK = 500  # ids per IN (...) clause, well under every backend's parameter limit


@dataclass(frozen=True)
class Measurement:
    """One measured value of a trial.

    Parameters
    ----------
    metric: the metric's name, e.g. ``"accuracy"``, ``"macro_f1"``, ``"fit_seconds"``.
    value: the value (NaN is stored as NULL and read back as NaN).
    x: an optional step, e.g. the number of labels on an active-learning curve; ``None`` otherwise.
    """

    metric: str
    value: float
    x: float | None = None


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays, paths, sets: the types a config built in code tends to contain.
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"a trial configuration holds a {type(obj).__name__}, which is not JSON")


def canonical_json(config: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a configuration (sorted keys, no spaces, UTF-8)."""
    return json.dumps(
        config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def trial_key(config: Mapping[str, Any]) -> str:
    """Return the sha256 (hex) of the canonical JSON of ``config``: the identity of a trial.

    >>> trial_key({"b": 1, "a": 2}) == trial_key({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def default_url() -> str:
    """Return the default store URL: ``sqlite:///<data home>/results.sqlite``."""
    from littledata.config import data_home

    return f"sqlite:///{data_home() / 'results.sqlite'}"


@cache
def _versions_json() -> str:
    from littledata.versions import library_versions

    return json.dumps(library_versions(), sort_keys=True)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _matches(config: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for name, wanted in filters.items():
        if name not in config:
            return False
        value = config[name]
        if isinstance(wanted, (list, tuple, set, frozenset)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class ResultsStore:
    """Trials and their measurements in a SQL database (see the module docstring).

    Parameters
    ----------
    url: a SQLAlchemy URL; ``None`` means ``sqlite:///<data home>/results.sqlite``;
        ``"sqlite://"`` is an in-memory store (tests).
    create: create a SQLite file that does not exist yet (its folder must exist); with
        ``False`` (the commands that only read) a missing file is a ConfigError instead.

    A file that is not a SQLite database, a corrupt one, or a database that cannot be opened is
    a :class:`~littledata.errors.LittleDataError` with a one-line message, whenever it shows.
    """

    def __init__(self, url: str | None = None, *, create: bool = True) -> None:
        self.url = url or default_url()
        self._engine = make_engine(self.url, create=create)
        for attempt in range(3):
            try:
                metadata.create_all(self._engine)
                break
            except OperationalError:  # another process created the tables at the same moment
                if attempt == 2:
                    raise
        self._migrate()

    def __repr__(self) -> str:
        return f"ResultsStore({self.url!r})"

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def _migrate(self) -> None:
        """Add the columns of :data:`MIGRATIONS` that an older store lacks (rows are kept)."""
        for table, column, sql_type in MIGRATIONS:
            present = {c["name"] for c in sa.inspect(self._engine).get_columns(table)}
            if column in present:
                continue
            try:
                with self._engine.begin() as conn:
                    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
                log.info("results store %s: added column %s.%s", self.url, table, column)
            except sa.exc.DBAPIError:  # another process added it at the same moment
                present = {c["name"] for c in sa.inspect(self._engine).get_columns(table)}
                if column not in present:
                    raise

    # -- trials --------------------------------------------------------------------------------

    def completed_keys(self, kind: str) -> set[str]:
        """Return the keys of every trial of ``kind`` stored so far."""
        query = sa.select(trials_table.c.key).where(trials_table.c.kind == kind)
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def add_trial(
        self,
        *,
        kind: str,
        key: str,
        config: Mapping[str, Any],
        measurements: Iterable[Measurement],
        collapsed: bool | None = None,
    ) -> bool:
        """Store one trial and all its measurements in one transaction.

        ``collapsed`` flags a trial whose predictions collapsed onto one class (``None``: not
        checked). Returns ``False`` (and writes nothing) when a trial with this ``kind`` and
        ``key`` is already stored. A failure recorded earlier for the same key is cleared.
        """
        if not kind or not key:
            raise ValueError("add_trial needs a non-empty kind and key")
        config_json = canonical_json(config)
        rows = []
        for m in measurements:
            if not isinstance(m, Measurement):
                m = Measurement(*m)
            rows.append(
                {
                    "metric": str(m.metric),
                    "x": _float_or_none(m.x),
                    "value": _float_or_none(m.value),
                }
            )
        exists = sa.select(trials_table.c.id).where(
            trials_table.c.kind == kind, trials_table.c.key == key
        )
        with self._engine.connect() as conn:
            if conn.execute(exists).first() is not None:
                return False
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    trials_table.insert().values(
                        kind=kind,
                        key=key,
                        config=config_json,
                        versions=_versions_json(),
                        created=_utcnow(),
                        collapsed=None if collapsed is None else bool(collapsed),
                    )
                )
                trial_id = result.inserted_primary_key[0]
                if rows:
                    conn.execute(
                        measurements_table.insert(), [{"trial_id": trial_id, **r} for r in rows]
                    )
                conn.execute(
                    failures_table.delete().where(
                        failures_table.c.kind == kind, failures_table.c.key == key
                    )
                )
        except IntegrityError:  # stored by someone else between the check and the insert
            return False
        return True

    def _trial_rows(self, kind: str, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        query = (
            sa.select(
                trials_table.c.id,
                trials_table.c.key,
                trials_table.c.created,
                trials_table.c.config,
                trials_table.c.versions,
                trials_table.c.collapsed,
            )
            .where(trials_table.c.kind == kind)
            .order_by(trials_table.c.id)
        )
        out = []
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                config = json.loads(row.config)
                if _matches(config, filters):
                    out.append(
                        {
                            "id": row.id,
                            "key": row.key,
                            "created": row.created,
                            "config": config,
                            "versions": row.versions,
                            "collapsed": row.collapsed,
                        }
                    )
        return out

    def frame(self, kind: str, **filters: Any) -> pd.DataFrame:
        """Return the measurements of ``kind`` in long format.

        One row per measurement with the columns ``key``, ``created`` (UTC), ``metric``, ``x``,
        ``value``, the trial's ``collapsed`` flag (nullable boolean: ``<NA>`` when not checked)
        and one column per top-level configuration field (a field whose name clashes with one of
        those six is named ``config_<name>``). ``filters`` match configuration fields: a value, or
        a list of accepted values.
        """
        import pandas as pd

        trials = self._trial_rows(kind, filters)
        if not trials:
            return pd.DataFrame(columns=list(BASE_COLUMNS))
        ids = [t["id"] for t in trials]
        meas: list[tuple[Any, ...]] = []
        with self._engine.connect() as conn:
            cols = (
                measurements_table.c.trial_id,
                measurements_table.c.metric,
                measurements_table.c.x,
                measurements_table.c.value,
            )
            if len(filters) == 0:
                query = (
                    sa.select(*cols)
                    .join(trials_table, trials_table.c.id == measurements_table.c.trial_id)
                    .where(trials_table.c.kind == kind)
                )
                meas.extend(tuple(r) for r in conn.execute(query))
            else:
                for chunk in _chunks(ids):
                    query = sa.select(*cols).where(measurements_table.c.trial_id.in_(chunk))
                    meas.extend(tuple(r) for r in conn.execute(query))
        m = pd.DataFrame(meas, columns=["trial_id", "metric", "x", "value"])
        m["x"] = m["x"].astype("float64")
        m["value"] = m["value"].astype("float64")
        t = self._trials_frame(trials, include_id=True)
        out = t.merge(m, left_on="_id", right_on="trial_id", how="inner")
        out = out.sort_values(["_id", "metric", "x"], kind="stable", na_position="first")
        fixed = ("_id", "key", "created", "versions", FLAG_COLUMN)
        config_cols = [c for c in t.columns if c not in fixed]
        out = out[[*BASE_COLUMNS, FLAG_COLUMN, *config_cols]].reset_index(drop=True)
        return out

    @staticmethod
    def _trials_frame(trials: list[dict[str, Any]], include_id: bool = False) -> pd.DataFrame:
        import pandas as pd

        records = []
        for t in trials:
            rec: dict[str, Any] = {"key": t["key"], "created": t["created"]}
            if include_id:
                rec["_id"] = t["id"]
            rec["versions"] = t["versions"]
            rec[FLAG_COLUMN] = t.get(FLAG_COLUMN)
            reserved = (*BASE_COLUMNS, "_id", "versions", FLAG_COLUMN)
            for name, value in t["config"].items():
                column = f"config_{name}" if name in reserved else name
                rec[column] = value
            records.append(rec)
        frame = pd.DataFrame.from_records(records)
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
        frame[FLAG_COLUMN] = pd.array(
            [None if v is None else bool(v) for v in frame[FLAG_COLUMN]], dtype="boolean"
        )
        return frame

    def trials(self, kind: str, **filters: Any) -> pd.DataFrame:
        """Return one row per trial: ``key``, ``created``, ``versions`` (a dict), ``collapsed``
        (the flag, nullable boolean) and the config."""
        import pandas as pd

        rows = self._trial_rows(kind, filters)
        if not rows:
            return pd.DataFrame(columns=["key", "created", "versions"])
        frame = self._trials_frame(rows)
        frame["versions"] = [json.loads(v) for v in frame["versions"]]
        return frame

    def delete(self, kind: str, **filters: Any) -> int:
        """Delete the trials of ``kind`` whose configuration matches ``filters`` (all of ``kind``
        without filters), with their measurements and recorded failures. Returns how many trials
        were deleted."""
        ids = [t["id"] for t in self._trial_rows(kind, filters)]
        with self._engine.begin() as conn:
            for chunk in _chunks(ids):
                conn.execute(
                    measurements_table.delete().where(measurements_table.c.trial_id.in_(chunk))
                )
                conn.execute(trials_table.delete().where(trials_table.c.id.in_(chunk)))
            failed = sa.select(failures_table.c.id, failures_table.c.config).where(
                failures_table.c.kind == kind
            )
            fail_ids = [
                r.id for r in conn.execute(failed) if _matches(json.loads(r.config), filters)
            ]
            for chunk in _chunks(fail_ids):
                conn.execute(failures_table.delete().where(failures_table.c.id.in_(chunk)))
        return len(ids)

    # -- failures ------------------------------------------------------------------------------

    def add_failure(self, *, kind: str, key: str, config: Mapping[str, Any], message: str) -> None:
        """Record (or replace) the error of a trial that raised; it stays out of
        :meth:`completed_keys`, so the next run tries it again."""
        with self._engine.begin() as conn:
            conn.execute(
                failures_table.delete().where(
                    failures_table.c.kind == kind, failures_table.c.key == key
                )
            )
            conn.execute(
                failures_table.insert().values(
                    kind=kind,
                    key=key,
                    config=canonical_json(config),
                    message=str(message),
                    created=_utcnow(),
                )
            )

    def failures(self, kind: str, **filters: Any) -> pd.DataFrame:
        """Return the recorded failures: ``key``, ``created``, ``message`` and the config fields."""
        import pandas as pd

        query = sa.select(failures_table).where(failures_table.c.kind == kind)
        records = []
        with self._engine.connect() as conn:
            for row in conn.execute(query.order_by(failures_table.c.id)):
                config = json.loads(row.config)
                if _matches(config, filters):
                    records.append(
                        {"key": row.key, "created": row.created, "message": row.message, **config}
                    )
        if not records:
            return pd.DataFrame(columns=["key", "created", "message"])
        frame = pd.DataFrame.from_records(records)
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
        return frame

    # -- claims --------------------------------------------------------------------------------

    @property
    def in_memory(self) -> bool:
        """Whether this is an in-memory store (no other process can see it)."""
        return is_sqlite_memory(sa.make_url(self.url))

    @staticmethod
    def _keys_where(
        conn: sa.Connection, table: sa.Table, kind: str, keys: Sequence[str], *extra: Any
    ) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(list(keys)):
            where = (table.c.kind == kind, table.c.key.in_(chunk), *extra)
            out.update(conn.execute(sa.select(table.c.key).where(*where)).scalars())
        return out

    def open_keys(
        self, kind: str, keys: Sequence[str], failed_since: dt.datetime | None = None
    ) -> set[str]:
        """The ``keys`` not stored yet (and, with ``failed_since``, without a failure recorded
        since then)."""
        with self._engine.connect() as conn:
            done = self._keys_where(conn, trials_table, kind, keys)
            if failed_since is not None:
                done |= self._keys_where(
                    conn, failures_table, kind, keys, failures_table.c.created >= failed_since
                )
        return set(keys) - done

    def claim(
        self,
        kind: str,
        keys: Sequence[str],
        owner: str,
        *,
        ttl_s: float,
        failed_since: dt.datetime | None = None,
        is_stale: Callable[[str, dt.datetime, dt.datetime], bool] | None = None,
    ) -> list[str]:
        """Claim the ``keys`` that are still to do for ``owner``; return those claimed (in order).

        A key is skipped when its trial is stored, when a failure was recorded for it since
        ``failed_since``, or when another owner's claim on it is live. A claim is live until it
        expires (``ttl_s`` after it was made or last renewed) or until ``is_stale(owner, expires,
        now)`` says its owner is gone. Claims are rows under a unique constraint, so two runs
        never both claim a key.
        """
        if not keys:
            return []
        now = _utcnow()
        open_now = self.open_keys(kind, keys, failed_since)
        with self._engine.connect() as conn:
            rows = []
            for chunk in _chunks([k for k in keys if k in open_now]):
                rows += conn.execute(
                    sa.select(claims_table).where(
                        claims_table.c.kind == kind, claims_table.c.key.in_(chunk)
                    )
                ).all()
        mine = {r.key for r in rows if r.owner == owner}
        taken = {r.key for r in rows if r.owner != owner}
        stale = [
            r
            for r in rows
            if r.owner != owner
            and (r.expires < now or (is_stale is not None and is_stale(r.owner, r.expires, now)))
        ]
        if stale:  # remove each stale claim only if it is still the same row
            with self._engine.begin() as conn:
                for r in stale:
                    conn.execute(claims_table.delete().where(claims_table.c.id == r.id))
            taken -= {r.key for r in stale}
        wanted = [k for k in keys if k in open_now and k not in mine and k not in taken]
        expires = now + dt.timedelta(seconds=ttl_s)
        got = set(mine)
        new = [{"kind": kind, "key": k, "owner": owner, "expires": expires} for k in wanted]
        try:
            if new:
                with self._engine.begin() as conn:
                    conn.execute(claims_table.insert(), new)
            got.update(wanted)
        except IntegrityError:  # another run claimed some of them meanwhile: one by one
            for row in new:
                try:
                    with self._engine.begin() as conn:
                        conn.execute(claims_table.insert(), [row])
                    got.add(row["key"])
                except IntegrityError:
                    pass
        # another run stores a trial before it releases the claim: one stored meanwhile is done
        stored = set(got) - self.open_keys(kind, list(got))
        if stored:
            self.release_claims(kind, owner, sorted(stored))
        return [k for k in keys if k in got and k not in stored]

    def renew_claims(self, kind: str, owner: str, ttl_s: float) -> None:
        """Push back the expiry of every claim of ``owner`` (a live run's heartbeat)."""
        expires = _utcnow() + dt.timedelta(seconds=ttl_s)
        with self._engine.begin() as conn:
            conn.execute(
                claims_table.update()
                .where(claims_table.c.kind == kind, claims_table.c.owner == owner)
                .values(expires=expires)
            )

    def release_claims(self, kind: str, owner: str, keys: Sequence[str] | None = None) -> None:
        """Drop the claims of ``owner`` on ``keys`` (all of its claims when ``keys`` is None)."""
        with self._engine.begin() as conn:
            base = claims_table.delete().where(
                claims_table.c.kind == kind, claims_table.c.owner == owner
            )
            if keys is None:
                conn.execute(base)
            else:
                for chunk in _chunks(list(keys)):
                    conn.execute(base.where(claims_table.c.key.in_(chunk)))

    def claims(self, kind: str) -> list[dict[str, Any]]:
        """Every claim of ``kind``: ``key``, ``owner``, ``expires`` (UTC)."""
        query = sa.select(claims_table).where(claims_table.c.kind == kind)
        with self._engine.connect() as conn:
            return [
                {"key": r.key, "owner": r.owner, "expires": r.expires} for r in conn.execute(query)
            ]

    # -- runs ----------------------------------------------------------------------------------

    def start_run(self, kind: str, spec: Mapping[str, Any]) -> int:
        """Record the start of a run of ``spec`` (a JSON-able mapping); returns the run id."""
        with self._engine.begin() as conn:
            result = conn.execute(
                runs_table.insert().values(
                    kind=kind,
                    started=_utcnow(),
                    spec=canonical_json(spec),
                    versions=_versions_json(),
                )
            )
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, summary: Mapping[str, Any]) -> None:
        """Record a run's end and its summary."""
        with self._engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.id == run_id)
                .values(finished=_utcnow(), summary=canonical_json(summary))
            )

    def runs(self, kind: str) -> list[dict[str, Any]]:
        """Return every recorded run of ``kind``, oldest first (``spec``, ``summary`` and
        ``versions`` parsed from JSON; ``summary`` is ``None`` for a run that did not finish)."""
        query = sa.select(runs_table).where(runs_table.c.kind == kind).order_by(runs_table.c.id)
        with self._engine.connect() as conn:
            return [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "started": r.started,
                    "finished": r.finished,
                    "spec": json.loads(r.spec),
                    "summary": None if r.summary is None else json.loads(r.summary),
                    "versions": json.loads(r.versions),
                }
                for r in conn.execute(query)
            ]
