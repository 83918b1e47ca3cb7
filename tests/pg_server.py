"""A throwaway PostgreSQL server for tests: its own cluster on 127.0.0.1, a free port, a temp dir.

Uses Debian's binaries (``apt-get install postgresql``: ``/usr/lib/postgresql/*/bin``); as root
they run as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.label_helpers import free_port


def pg_bin() -> Path | None:
    """The folder of initdb / pg_ctl, or ``None`` when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


@contextmanager
def postgres_server(*, fsync: bool = False) -> Iterator[str]:
    """Start a cluster; yield the URL of its ``postgres`` database; stop and remove it.
    ``fsync=False`` (the tests): faster, and a crash of the machine may lose commits; the load
    benchmark runs with ``fsync=True``, as a real server would."""
    bin_dir = pg_bin()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="littledata-pg-"))
    root.chmod(0o777)
    data, port = root / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              *([] if fsync else ["--no-sync"])])  # fmt: skip
        opts = f"-h 127.0.0.1 -p {port} -k {root} -c fsync={'on' if fsync else 'off'}"
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"),
              "-w", "-t", "60", "start"])  # fmt: skip
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def new_database(server_url: str) -> str:
    """Create an empty database on the server; its URL."""
    import sqlalchemy as sa

    name = "ld_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name
