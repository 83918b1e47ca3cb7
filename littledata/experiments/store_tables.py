"""The results store's tables, their migrations, and opening a database by URL.

:mod:`littledata.experiments.store` describes what each table holds and is the only module that
reads or writes them. :func:`make_engine` turns a URL into a SQLAlchemy engine with one-line errors
for a URL, file or server that cannot be used, and SQLite in WAL mode with a busy timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from littledata.errors import (
    ConfigError,
    DatabaseError,
    DatabaseUnavailableError,
    DatabaseUnusableError,
)

metadata = sa.MetaData()

trials_table = sa.Table(
    "trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("versions", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("collapsed", sa.Boolean, nullable=True),
    sa.UniqueConstraint("kind", "key", name="uq_trials_kind_key"),
)

MIGRATIONS: tuple[tuple[str, str, str], ...] = (("trials", "collapsed", "BOOLEAN"),)
"""Columns added after the first release: (table, column, SQL type). Opening a store that lacks
one adds it (``ALTER TABLE ... ADD COLUMN``); existing rows get NULL and are otherwise kept."""

measurements_table = sa.Table(
    "measurements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "trial_id",
        sa.Integer,
        sa.ForeignKey("trials.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("x", sa.Float, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
)

failures_table = sa.Table(
    "failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.UniqueConstraint("kind", "key", name="uq_failures_kind_key"),
)

runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("started", sa.DateTime, nullable=False),
    sa.Column("finished", sa.DateTime, nullable=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("versions", sa.Text, nullable=False),
)


claims_table = sa.Table(
    "claims",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("expires", sa.DateTime, nullable=False),
    sa.UniqueConstraint("kind", "key", name="uq_claims_kind_key"),
)


def is_sqlite_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def store_error(url_text: str, exc: BaseException, what: str = "results store") -> DatabaseError:
    """The one-line error for a database that cannot be used (not a database, corrupt, cannot
    be opened or reached); ``what`` names it for the user."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "not a database" in reason or "malformed" in reason:
        return DatabaseUnusableError(
            f"The {what} {url_text} is not a usable SQLite database ({reason}). Move the "
            "file away (or restore it from a backup), or point --db at another file."
        )
    default = ", or leave --db out for the data home's store" if what == "results store" else ""
    return DatabaseUnavailableError(
        f"Cannot use the {what} {url_text}: {reason}. Check the URL (e.g. "
        f"'sqlite:///path/to/file.sqlite'){default}."
    )


def make_engine(url_text: str, create: bool = True, what: str = "results store") -> sa.Engine:
    """The engine of the database at ``url_text``; ``what`` names it in every error."""
    try:
        url = sa.make_url(url_text)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"Not a database URL: {url_text!r} ({exc}). Use e.g. "
            "'sqlite:///path/to/results.sqlite' or leave it out for the default store in the "
            "data home."
        ) from None
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if is_sqlite_memory(url):
            kwargs["poolclass"] = sa.pool.StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            path = Path(url.database or "").expanduser()
            url = url.set(database=str(path))  # sqlite itself does not expand "~"
            if not create and not path.is_file():
                raise ConfigError(
                    f"There is no results store at {path} ({url_text}); run `littledata bench` "
                    "(or `littledata active simulate`) first, or check --db."
                )
            if path.is_dir():
                raise ConfigError(f"The {what} {url_text} names a folder, not a file.")
            if not path.parent.is_dir():  # a typo in --db should not create folders
                raise ConfigError(
                    f"The folder {path.parent} of the {what} {url_text} does not exist; "
                    "create it first, or check --db."
                )
            kwargs["connect_args"] = {"timeout": 60}
    try:
        engine = sa.create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"The database driver for {url.drivername!r} is not installed ({exc.name}); install it "
            "or use a 'sqlite:///...' URL."
        ) from None

    @sa.event.listens_for(engine, "handle_error")
    def _one_line(context: Any) -> None:
        # A file that is not a database, a corrupt one, a path that cannot be opened, a server
        # that cannot be reached: one clear error instead of SQLAlchemy's. Unique-key conflicts
        # (two writers storing one trial) and the table-creation race stay as they are.
        exc = context.sqlalchemy_exception
        if isinstance(exc, IntegrityError) or "already exists" in str(exc):
            return
        if isinstance(exc, sa.exc.DBAPIError) and not isinstance(exc, sa.exc.ProgrammingError):
            raise store_error(url_text, exc, what) from None

    if url.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if not is_sqlite_memory(url):
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine
