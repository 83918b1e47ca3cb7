"""The labeling app's database: items, answers (who labeled what, when), leases and rounds.

Everything the labeling app knows lives here, so stopping the server and starting it again with
the same database resumes the session. SQLite in the data home by default; any SQLAlchemy URL
(PostgreSQL: ``postgresql+psycopg://user@host/db``) works the same.

Tables
------
``meta``         key -> JSON value: the label set, the data, the strategy, the settings; and
                 ``stopping``: the stopping criterion's last stop-set predictions and a
                 fingerprint of the labels they came from (so a resume takes it up).
``items``        one row per pool row (``id`` = the learner's pool row): the text, where it came
                 from, how many annotators it needs (``required``, 1 or 2), how many have
                 labeled it (``n_done``, raised atomically), ``complete``, the queue ``priority``.
``assignments``  (item, slot) -> annotator, status ``leased`` (with ``expires_at``) or ``done``.
                 An item has ``required`` slots; the primary key makes one slot one annotator's,
                 and ``unique(item, annotator)`` keeps one annotator from taking two slots.
``answers``      one per (item, annotator): kind ``label`` (with the label), ``skip`` or
                 ``unsure``, and the time (``created_at``, seconds since the epoch, UTC).
``rounds``       one per retraining: labels used, cross-validated accuracy, the stopping
                 criterion's kappa and message, fit seconds, the strategy.

Concurrency
-----------
Leasing never reads-then-writes: a free slot is taken by an ``INSERT`` that the primary key lets
only one writer win, an expired one by an ``UPDATE ... WHERE expires_at < now`` that only one
writer's row count sees as 1. A submit turns the annotator's own ``leased`` row into ``done``
(row count 1 or the item was not theirs: stale) and raises ``n_done`` in the same transaction.
So several processes (or servers) may share one PostgreSQL database. SQLite transactions begin
``IMMEDIATE`` (one writer at a time, never a lock upgrade that fails).

Why this module is longer than the project's ~600-line guide: the lease, answer, undo and expiry
transactions must be read side by side to see that no two annotators can win one item slot;
split, that argument would span files.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from littledata.errors import ConfigError, LittleDataError

__all__ = [
    "BASE_PRIORITY",
    "AnswerConflictError",
    "Item",
    "LabelStore",
    "StaleItemError",
    "default_db_url",
    "open_existing",
]

BASE_PRIORITY = 1_000_000.0
"""Items the model has not ranked sit at ``BASE_PRIORITY + position`` (a seeded order); the
latest round's ranked items at ``0, 1, 2, ...``; lower comes first."""

ANSWER_KINDS = ("label", "skip", "unsure")


class StaleItemError(LittleDataError):
    """The item is not leased to this annotator (never was, the lease expired and another
    annotator took it, or it was answered already): the page should fetch the next item."""


class AnswerConflictError(LittleDataError):
    """The annotator already answered this item (a double submit)."""


def open_existing(url: str | None) -> LabelStore:
    """The store at ``url`` (default: the data home's), which must hold a labeling session."""
    url = url or default_db_url()
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        path = Path(parsed.database or "").expanduser()
        if not path.is_file():
            raise ConfigError(
                f"There is no labeling session at {url}; start one with "
                "`littledata label serve DATA --db URL`, or check --db."
            )
    store = LabelStore(url)
    if not store.get_meta():
        store.close()
        raise ConfigError(f"The database {url} holds no labeling session; check --db.")
    return store


def default_db_url() -> str:
    """``sqlite:///<data home>/labels.sqlite``."""
    from littledata.config import data_home

    return f"sqlite:///{data_home() / 'labels.sqlite'}"


metadata = sa.MetaData()

meta_table = sa.Table(
    "label_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

items_table = sa.Table(
    "label_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("required", sa.Integer, nullable=False, default=1),
    sa.Column("n_done", sa.Integer, nullable=False, default=0),
    sa.Column("complete", sa.Boolean, nullable=False, default=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Index("ix_label_items_queue", "complete", "priority", "id"),
)

assignments_table = sa.Table(
    "label_assignments",
    metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("label_items.id"), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("annotator", sa.String(100), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("leased_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.UniqueConstraint("item_id", "annotator", name="uq_label_assignment_annotator"),
    sa.Index("ix_label_assignments_annotator", "annotator", "status"),
)

answers_table = sa.Table(
    "label_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("label_items.id"), nullable=False),
    sa.Column("annotator", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("label", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("item_id", "annotator", name="uq_label_answer_annotator"),
    sa.Index("ix_label_answers_annotator", "annotator", "id"),
)

rounds_table = sa.Table(
    "label_rounds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("n_labels", sa.Integer, nullable=False),
    sa.Column("cv_accuracy", sa.Float, nullable=True),
    sa.Column("kappa", sa.Float, nullable=True),
    sa.Column("stopped", sa.Boolean, nullable=False, default=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("strategy", sa.String(100), nullable=False, default=""),
    sa.Column("fit_seconds", sa.Float, nullable=False, default=0.0),
    sa.Column("created_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class Item:
    """An item leased to an annotator."""

    id: int
    text: str
    required: int
    n_done: int
    expires_at: float


def _engine(url: str) -> sa.Engine:
    from littledata.experiments.store_tables import make_engine

    engine = make_engine(url, create=True, what="labeling database")
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class LabelStore:
    """The labeling session's database (see the module docstring).

    Parameters
    ----------
    url: a SQLAlchemy URL; ``None``: ``sqlite:///<data home>/labels.sqlite``.
    lease_seconds: how long an item stays an annotator's before it returns to the queue.
    clock: the time in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        lease_seconds: float = 600.0,
        clock: Any = time.time,
    ) -> None:
        if not lease_seconds > 0:
            raise ConfigError(f"The lease must last more than 0 seconds, got {lease_seconds}.")
        self.url = url or default_db_url()
        self.lease_seconds = float(lease_seconds)
        self.clock = clock
        self.engine = _engine(self.url)
        # SQLite has one writer at a time; threads of this process queue on a lock (woken at
        # once) rather than in SQLite's busy handler (which sleeps up to 100 ms per retry).
        self._lock = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        for attempt in range(3):  # several processes may create the tables at once: the
            try:  # losers fail (SQLite: locked; PostgreSQL: a catalog key or "already
                metadata.create_all(self.engine)  # exists") and then find the tables there
                break
            except (sa.exc.OperationalError, sa.exc.IntegrityError, sa.exc.ProgrammingError):
                if attempt == 2:
                    raise

    @contextlib.contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A transaction (committed at the end, rolled back on an error)."""
        with self._locked(), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A connection for reading, or for one statement that is atomic by itself (an insert
        or update of one slot). A server database runs it in autocommit: no ``BEGIN`` and
        ``COMMIT`` round trips (its reads see per-statement snapshots either way); SQLite in a
        transaction, committed at the end."""
        if self._lock is not None:  # SQLite
            with self._begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def _locked(self) -> contextlib.AbstractContextManager[Any]:
        return self._lock if self._lock is not None else contextlib.nullcontext()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- the session ------------------------------------------------------------------------------

    def get_meta(self) -> dict[str, Any]:
        """Every ``meta`` entry, JSON-decoded."""
        with self._connect() as conn:
            rows = conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all()
        return {k: json.loads(v) for k, v in rows}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        """Write ``meta`` entries (replacing those of the same key), in one transaction. Each
        key is updated, or inserted when it is not there yet; an insert that loses to another
        writer's (several servers on one database) is tried again, as an update then."""
        m, tries = meta_table, len(values) + 2  # each lost race leaves one more key there
        for attempt in range(tries):
            try:
                with self._begin() as conn:
                    for key, value in values.items():
                        text = json.dumps(value)
                        n = conn.execute(sa.update(m).where(m.c.key == key).values(value=text))
                        if n.rowcount == 0:
                            conn.execute(sa.insert(m).values(key=key, value=text))
                return
            except IntegrityError:
                if attempt == tries - 1:
                    raise

    def n_items(self) -> int:
        with self._connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(items_table)).scalar())

    def add_items(
        self,
        texts: Sequence[str],
        *,
        sources: Sequence[str | None] | None = None,
        required: Sequence[int] | int = 1,
        order: Sequence[int] | None = None,
        labeled: Mapping[int, str] | None = None,
        annotator: str = "file",
    ) -> None:
        """Fill a new session's items (rows ``0 .. n-1``) in one transaction.

        ``order``: the queue order before a model ranks anything (a seeded permutation of the
        rows; default: file order). ``labeled``: rows already labeled (the data file's labels),
        recorded as answers of ``annotator``.
        """
        n = len(texts)
        reqs = [int(required)] * n if isinstance(required, int) else [int(r) for r in required]
        if any(r not in (1, 2) for r in reqs):
            raise ConfigError("An item needs one or two annotators.")
        position = {int(row): k for k, row in enumerate(order if order is not None else range(n))}
        labeled = dict(labeled or {})
        now = self.clock()
        rows = [
            {
                "id": i,
                "text": str(t),
                "source": None if sources is None else sources[i],
                "required": 1 if i in labeled else reqs[i],
                "n_done": 1 if i in labeled else 0,
                "complete": i in labeled,
                "priority": BASE_PRIORITY + position.get(i, i),
            }
            for i, t in enumerate(texts)
        ]
        with self._begin() as conn:
            for start in range(0, n, 5000):
                conn.execute(sa.insert(items_table), rows[start : start + 5000])
            if labeled:
                conn.execute(
                    sa.insert(assignments_table),
                    [
                        {"item_id": i, "slot": 0, "annotator": annotator, "status": "done",
                         "leased_at": now, "expires_at": None}
                        for i in labeled
                    ],
                )  # fmt: skip
                conn.execute(
                    sa.insert(answers_table),
                    [
                        {"item_id": i, "annotator": annotator, "kind": "label", "label": lab,
                         "created_at": now}
                        for i, lab in labeled.items()
                    ],
                )  # fmt: skip

    def set_required(self, items: Sequence[str | int], required: int) -> int:
        """Set how many annotators each of ``items`` needs (1 or 2), also while annotators
        work: an item answered once that now needs two goes back to the queue. An item is named
        by its id or its source (``train:17``: the data file's split and row, as exported).
        Returns the number of items set; unknown names raise :class:`ConfigError`."""
        if required not in (1, 2):
            raise ConfigError(f"An item needs one or two annotators; got {required}.")
        wanted = [str(x).strip() for x in items if str(x).strip()]
        if not wanted:
            raise ConfigError("Name the items to set, by id or by source (e.g. train:17).")
        i = items_table
        with self._begin() as conn:
            found: dict[str, int] = {}
            for row in conn.execute(sa.select(i.c.id, i.c.source)):
                for name in (str(row.id), row.source):
                    if name in wanted:
                        found[name] = int(row.id)
            unknown = [w for w in wanted if w not in found]
            if unknown:
                raise ConfigError(
                    f"No item {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} in this "
                    "session; name items by id or by source as `label export` writes them."
                )
            ids = sorted(set(found.values()))
            conn.execute(
                sa.update(i).where(i.c.id.in_(ids)).values(
                    required=required, complete=i.c.n_done >= required
                )
            )  # fmt: skip
        return len(ids)

    def texts(self) -> list[str]:
        """Every item's text, by id."""
        with self._connect() as conn:
            rows = conn.execute(sa.select(items_table.c.text).order_by(items_table.c.id)).all()
        return [r[0] for r in rows]

    # -- leases -----------------------------------------------------------------------------------

    def _item(self, conn: sa.Connection, item_id: int, expires_at: float) -> Item:
        row = conn.execute(
            sa.select(items_table.c.text, items_table.c.required, items_table.c.n_done).where(
                items_table.c.id == item_id
            )
        ).one()
        return Item(int(item_id), row.text, int(row.required), int(row.n_done), expires_at)

    def current(self, annotator: str) -> Item | None:
        """The item leased to ``annotator`` now (its lease renewed), or ``None``."""
        now = self.clock()
        a = assignments_table
        with self._connect() as conn:  # mostly there is none: no transaction for that
            row = conn.execute(
                sa.select(a.c.item_id).where(a.c.annotator == annotator, a.c.status == "leased")
            ).first()
        if row is None:
            return None
        with self._begin() as conn:  # renewed only while it is still theirs
            expires = now + self.lease_seconds
            n = conn.execute(
                sa.update(a)
                .where(a.c.item_id == row.item_id, a.c.annotator == annotator)
                .where(a.c.status == "leased")
                .values(expires_at=expires, leased_at=now)
            ).rowcount
            return self._item(conn, row.item_id, expires) if n == 1 else None

    def _try_lease(self, item_id: int, required: int, annotator: str, now: float) -> bool:
        """Take a free (or expired) slot of ``item_id`` for ``annotator``; whether it worked."""
        a = assignments_table
        expires = now + self.lease_seconds
        for slot in range(required):  # each statement is atomic alone: _connect, not _begin
            try:
                with self._connect() as conn:
                    conn.execute(
                        sa.insert(a).values(
                            item_id=item_id, slot=slot, annotator=annotator, status="leased",
                            leased_at=now, expires_at=expires,
                        )
                    )  # fmt: skip
                return True
            except IntegrityError:
                pass
            try:
                with self._connect() as conn:
                    taken = conn.execute(
                        sa.update(a)
                        .where(a.c.item_id == item_id, a.c.slot == slot, a.c.status == "leased")
                        .where(a.c.expires_at < now)
                        .values(annotator=annotator, leased_at=now, expires_at=expires)
                    ).rowcount
                if taken == 1:
                    return True
            except IntegrityError:  # this annotator holds another slot of the item
                return False
        return False

    def lease_next(self, annotator: str, *, candidates: int = 20) -> Item | None:
        """Lease the next item for ``annotator``: the one they hold already, else the first open
        item in queue order that they have not answered and that has a free or expired slot.
        ``None`` when the queue holds nothing for them."""
        held = self.current(annotator)
        if held is not None:
            return held
        i, a, ans = items_table, assignments_table, answers_table
        for _ in range(50):
            now = self.clock()
            busy = (
                sa.select(sa.func.count())
                .select_from(a)
                .where(a.c.item_id == i.c.id)
                .where(sa.or_(a.c.status == "done", a.c.expires_at > now))
                .scalar_subquery()
            )
            mine = sa.exists().where(ans.c.item_id == i.c.id, ans.c.annotator == annotator)
            query = (
                sa.select(i.c.id, i.c.required, i.c.text, i.c.n_done)
                .where(i.c.complete == sa.false(), ~mine, busy < i.c.required)
                .order_by(i.c.priority, i.c.id)
                .limit(candidates)
            )
            with self._connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return None
            for row in rows:
                if self._try_lease(int(row.id), int(row.required), annotator, now):
                    return Item(int(row.id), row.text, int(row.required), int(row.n_done),
                                now + self.lease_seconds)  # fmt: skip
        return None

    def release(self, annotator: str) -> None:
        """Give back the item ``annotator`` holds (it returns to the queue)."""
        a = assignments_table
        with self._begin() as conn:
            conn.execute(sa.delete(a).where(a.c.annotator == annotator, a.c.status == "leased"))

    # -- answers ----------------------------------------------------------------------------------

    def answer(self, item_id: int, annotator: str, kind: str, label: str | None = None) -> None:
        """Record ``annotator``'s answer to the item they hold: a ``label``, a ``skip`` or an
        ``unsure`` (not sure). Raises :class:`AnswerConflictError` when they answered it before
        and :class:`StaleItemError` when it is not theirs (any more)."""
        if kind not in ANSWER_KINDS:
            raise ConfigError(f"Unknown answer kind {kind!r}; one of {', '.join(ANSWER_KINDS)}.")
        if (kind == "label") != (label is not None):
            raise ConfigError("A label answer carries a label; skip and unsure carry none.")
        a, ans, i = assignments_table, answers_table, items_table
        now = self.clock()
        with self._begin() as conn:
            if kind == "label":
                n = conn.execute(
                    sa.update(a)
                    .where(a.c.item_id == item_id, a.c.annotator == annotator)
                    .where(a.c.status == "leased")
                    .values(status="done", expires_at=None)
                ).rowcount
            else:
                n = conn.execute(
                    sa.delete(a)
                    .where(a.c.item_id == item_id, a.c.annotator == annotator)
                    .where(a.c.status == "leased")
                ).rowcount
            if n != 1:
                done = conn.execute(
                    sa.select(ans.c.kind).where(
                        ans.c.item_id == item_id, ans.c.annotator == annotator
                    )
                ).first()
                if done is not None:
                    raise AnswerConflictError(
                        f"Item {item_id} was answered already by {annotator} ({done.kind}); "
                        "use undo to change it."
                    )
                raise StaleItemError(
                    f"Item {item_id} is not leased to {annotator} (its lease expired and it went "
                    "back to the queue, or it was never handed out); fetch the next item."
                )
            conn.execute(
                sa.insert(ans).values(
                    item_id=item_id, annotator=annotator, kind=kind, label=label, created_at=now
                )
            )
            if kind == "label":
                conn.execute(
                    sa.update(i)
                    .where(i.c.id == item_id)
                    .values(n_done=i.c.n_done + 1, complete=i.c.n_done + 1 >= i.c.required)
                )

    def undo(self, annotator: str) -> int | None:
        """Take back ``annotator``'s latest answer; the item is theirs again (the one they held
        goes back to the queue). Returns the item id, or ``None`` when there is nothing to undo.
        Raises :class:`StaleItemError` when a skipped item was taken by someone else since."""
        a, ans, i = assignments_table, answers_table, items_table
        now = self.clock()
        with self._begin() as conn:
            last = conn.execute(
                sa.select(ans.c.id, ans.c.item_id, ans.c.kind)
                .where(ans.c.annotator == annotator)
                .order_by(ans.c.id.desc())
                .limit(1)
            ).first()
            if last is None:
                return None
            conn.execute(sa.delete(a).where(a.c.annotator == annotator, a.c.status == "leased"))
            conn.execute(sa.delete(ans).where(ans.c.id == last.id))
            expires = now + self.lease_seconds
            if last.kind == "label":
                conn.execute(
                    sa.update(a)
                    .where(a.c.item_id == last.item_id, a.c.annotator == annotator)
                    .values(status="leased", expires_at=expires, leased_at=now)
                )
                conn.execute(
                    sa.update(i)
                    .where(i.c.id == last.item_id)
                    .values(n_done=i.c.n_done - 1, complete=sa.false())
                )
                return int(last.item_id)
        if not self._try_lease(
            int(last.item_id), self._required(int(last.item_id)), annotator, now
        ):
            raise StaleItemError(
                f"Item {last.item_id} was taken by another annotator since you skipped it; your "
                "skip is undone and the item is theirs now."
            )
        return int(last.item_id)

    def _required(self, item_id: int) -> int:
        with self._connect() as conn:
            return int(
                conn.execute(
                    sa.select(items_table.c.required).where(items_table.c.id == item_id)
                ).scalar_one()
            )

    # -- reading ----------------------------------------------------------------------------------

    def answers(self) -> list[dict[str, Any]]:
        """Every answer with its item's text, in the order they were given."""
        ans, i = answers_table, items_table
        query = (
            sa.select(
                ans.c.id, ans.c.item_id, i.c.text, i.c.source, ans.c.kind, ans.c.label,
                ans.c.annotator, ans.c.created_at,
            )
            .join(i, i.c.id == ans.c.item_id)
            .order_by(ans.c.id)
        )  # fmt: skip
        with self._connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def item_labels(self) -> dict[int, list[str]]:
        """Item id -> the labels given to it (label answers only)."""
        ans = answers_table
        out: dict[int, list[str]] = {}
        with self._connect() as conn:
            query = sa.select(ans.c.item_id, ans.c.label).where(ans.c.kind == "label")
            for item_id, label in conn.execute(query.order_by(ans.c.id)):
                out.setdefault(int(item_id), []).append(str(label))
        return out

    def training_labels(self) -> dict[int, str]:
        """Item id -> its label for training: the label its annotators agree on (items whose
        annotators disagree are left out until someone settles them)."""
        return {
            item: labels[0] for item, labels in self.item_labels().items() if len(set(labels)) == 1
        }

    def stats(self, classes: Sequence[str]) -> dict[str, Any]:
        """Counts for the side panel: labels per class, items labeled / open / in total, answers
        per annotator and kind, and the agreement on items that two annotators labeled."""
        i, ans, a = items_table, answers_table, assignments_table
        now = self.clock()
        with self._connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(i)).scalar_one()
            complete = conn.execute(
                sa.select(sa.func.count()).select_from(i).where(i.c.complete == sa.true())
            ).scalar_one()
            leased = conn.execute(
                sa.select(sa.func.count())
                .select_from(a)
                .where(a.c.status == "leased", a.c.expires_at > now)
            ).scalar_one()
            kinds = conn.execute(
                sa.select(ans.c.annotator, ans.c.kind, sa.func.count()).group_by(
                    ans.c.annotator, ans.c.kind
                )
            ).all()
        per_item = self.item_labels()
        per_class = Counter(label for labels in per_item.values() for label in set(labels))
        pairs = [labels for labels in per_item.values() if len(labels) >= 2]
        agree = sum(1 for labels in pairs if len(set(labels)) == 1)
        annotators: dict[str, dict[str, int]] = {}
        for who, kind, count in kinds:
            annotators.setdefault(who, {})[kind] = int(count)
        return {
            "items": int(total),
            "complete": int(complete),
            "open": int(total) - int(complete),
            "leased": int(leased),
            "labeled_items": len(per_item),
            "per_class": {c: int(per_class.get(c, 0)) for c in classes},
            "annotators": annotators,
            "double": {"items": len(pairs), "agree": agree,
                       "agreement": (agree / len(pairs)) if pairs else None},
        }  # fmt: skip

    # -- the model's ranking and rounds -----------------------------------------------------------

    def set_ranking(self, ranked: Iterable[int], base_order: Sequence[int]) -> None:
        """Put ``ranked`` items first in the queue (in that order); every item the last ranking
        moved goes back to its place in ``base_order``."""
        i = items_table
        ranked = [int(r) for r in ranked]
        position = {int(row): k for k, row in enumerate(base_order)}
        with self._begin() as conn:
            moved = conn.execute(
                sa.select(i.c.id).where(i.c.priority < BASE_PRIORITY, i.c.complete == sa.false())
            ).all()
            back = [
                {"b_id": int(r.id), "b_p": BASE_PRIORITY + position.get(int(r.id), int(r.id))}
                for r in moved
            ]
            update = sa.update(i).where(i.c.id == sa.bindparam("b_id"))
            if back:
                conn.execute(update.values(priority=sa.bindparam("b_p")), back)
            if ranked:
                conn.execute(
                    update.values(priority=sa.bindparam("b_p")),
                    [{"b_id": r, "b_p": float(k)} for k, r in enumerate(ranked)],
                )

    def add_round(self, **values: Any) -> None:
        """Record one retraining (columns of ``rounds``)."""
        with self._begin() as conn:
            conn.execute(sa.insert(rounds_table).values(created_at=self.clock(), **values))

    def rounds(self) -> list[dict[str, Any]]:
        """Every retraining, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(sa.select(rounds_table).order_by(rounds_table.c.id)).all()
        return [dict(r._mapping) for r in rows]
