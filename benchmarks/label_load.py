"""Load test of the labeling app: many annotators at once over HTTP, a kill -9, latency, retraining.

Runs ``littledata label`` as a real server (uvicorn, loopback only) on a SQLite database (or, with
``--postgres``, a real PostgreSQL server: a throwaway cluster of Debian's binaries on 127.0.0.1,
or the server at ``--postgres-url``; each phase gets a database of its own) and drives it with
simulated annotators (threads, one HTTP client each; each asks for an item and answers it
with the right label, which the server answers with the next item).

0. With PostgreSQL, first: the database's part of a click (``lease_next`` + ``answer`` in this
   process) on SQLite and on PostgreSQL, interleaved click by click (a ratio both measured
   under the same machine load).
1. **Latency** on a pool of ``--pool`` rows (20,000 by default, from davidson_hate's splits): the
   time from a label click to the next item (one ``POST /api/answer``, whose answer is the next
   item, measured at the client), p50 / p95, for one annotator alone and for ``--annotators``
   at once; the model retrains in the background meanwhile. Retrain time per round from the
   database's rounds (fit, query, cross-validated accuracy, stopping check).
2. **Load**: ``--annotators`` annotators label a fresh pool of ``--items`` rows until the queue
   is drained. Checks: every acknowledged label is in the database (0 lost), no item holds more
   labels than it needs (0 double-labeled), 0 open items, the database intact (SQLite:
   ``PRAGMA integrity_check``; PostgreSQL: amcheck's ``verify_heapam`` on every table and
   ``bt_index_check`` on every index).
   Throughput in labels per second.
3. **kill -9**: the same on another fresh pool, but the server is killed with SIGKILL after
   ``--kill-after`` acknowledged labels. Checks: every acknowledged label survived; the labels
   the database holds beyond those are at most the ones in flight (one per annotator); the
   database is intact. The server is started again on the same database and the annotators
   finish: drained, no double labels.

Writes ``benchmarks/results/label_load.md`` (``label_load_postgres.md`` with PostgreSQL) and prints
it. Bounded: every phase has a deadline.

Example::

    python benchmarks/label_load.py                 # the full run (a few minutes)
    python benchmarks/label_load.py --pool 3000 --items 500 --annotators 5   # quick
    python benchmarks/label_load.py --postgres      # the same on a throwaway PostgreSQL server
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from active import machine_lines  # noqa: E402

from tests.label_helpers import free_port, start_server, stop_server  # noqa: E402
from tests.pg_server import new_database, postgres_server  # noqa: E402


@dataclass
class Annotator:
    """One simulated annotator: its acknowledged labels, the one in flight, click times."""

    name: str
    truth: list[str]
    acked: list[int] = field(default_factory=list)
    in_flight: int | None = None
    latencies: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    error: str | None = None

    def run(self, base: str, stop: threading.Event, max_labels: int | None = None) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            try:
                item = client.post("/api/next", json={"annotator": self.name}).json()["item"]
                while item is not None and not stop.is_set():
                    if max_labels is not None and len(self.acked) >= max_labels:
                        return
                    body = {"annotator": self.name, "item_id": item["id"],
                            "label": self.truth[item["id"]]}  # fmt: skip
                    self.in_flight = item["id"]
                    start = time.perf_counter()
                    r = client.post("/api/answer", json=body)
                    took = time.perf_counter() - start
                    if r.status_code != 200:
                        self.error = f"{r.status_code}: {r.text[:200]}"
                        return
                    self.acked.append(item["id"])
                    self.in_flight = None
                    self.latencies.append(took)
                    timing = r.headers.get("server-timing", "")
                    if timing.startswith("app;dur="):
                        self.server_ms.append(float(timing.removeprefix("app;dur=")))
                    item = r.json()["item"]
            except httpx.HTTPError as exc:  # the server was killed
                self.error = type(exc).__name__


def run_annotators(
    base: str, truth: list[str], n: int, *, deadline: float, max_labels: int | None = None,
    stop: threading.Event | None = None, prefix: str = "ann",
) -> list[Annotator]:  # fmt: skip
    stop = stop or threading.Event()
    people = [Annotator(f"{prefix}{k:02d}", truth) for k in range(n)]
    threads = [
        threading.Thread(target=a.run, args=(base, stop, max_labels), daemon=True) for a in people
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    return people


def write_pool(path: Path, texts: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in texts)


def load_pool(n: int, mirror: str) -> tuple[list[str], list[str], list[str]]:
    """``n`` texts (distinct) with their labels from davidson_hate (train, then test)."""
    from littledata import load_dataset

    ds = load_dataset("davidson_hate", mirror=mirror)
    texts, labels, seen = [], [], set()
    for split in ("train", "test"):
        part = ds[split]
        for t, lab in zip(part.texts, part.labels.names(), strict=True):  # type: ignore[union-attr]
            t = " ".join(str(t).split())
            if t and t not in seen:
                seen.add(t)
                texts.append(t)
                labels.append(str(lab))
            if len(texts) == n:
                return texts, labels, [str(x) for x in ds.label_names]
    raise SystemExit(f"davidson_hate has only {len(texts)} distinct texts; use --pool {len(texts)}")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else float("nan")


def integrity(conn: sa.Connection) -> str:
    """``ok`` or what is wrong: SQLite's integrity check; on PostgreSQL amcheck over the
    labeling tables (heap pages and B-tree indexes, with the check that every heap tuple is
    in its indexes)."""
    if conn.dialect.name == "sqlite":
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    problems = conn.execute(
        sa.text(
            "select c.relname, count(v.*) from pg_class c, verify_heapam(c.oid) v "
            "where c.relname like 'label_%' and c.relkind = 'r' group by c.relname"
        )
    ).all()
    indexes = conn.execute(
        sa.text(
            "select c.oid from pg_index i join pg_class c on c.oid = i.indexrelid "
            "join pg_class t on t.oid = i.indrelid where t.relname like 'label_%'"
        )
    ).scalars()
    for oid in list(indexes):  # raises on a corrupt index
        conn.exec_driver_sql(f"select bt_index_check({int(oid)}, true)")
    return "ok" if not problems else f"heap problems: {problems}"


def db_facts(url: str) -> dict[str, object]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            q = conn.exec_driver_sql
            return {
                "integrity": integrity(conn),
                "labels": q("select count(*) from label_answers where kind='label'").scalar(),
                "pairs": set(
                    map(tuple, q("select annotator, item_id from label_answers where kind='label'"))
                ),
                "over": q(
                    "select count(*) from (select a.item_id from label_answers a join label_items "
                    "i on i.id=a.item_id where a.kind='label' group by a.item_id, i.required "
                    "having count(*) > i.required) x"
                ).scalar(),
                "open": q("select count(*) from label_items where not complete").scalar(),
                "mismatch": q(
                    "select count(*) from label_items i where i.n_done != (select count(*) from "
                    "label_answers a where a.item_id = i.id and a.kind = 'label')"
                ).scalar(),
                "rounds": q("select n_labels, fit_seconds from label_rounds order by id").all(),
            }
    finally:
        engine.dispose()


def serve(pool_csv: Path, db: str, labels: list[str], port: int, env: dict[str, str]):
    args = [str(pool_csv), "--labels", ",".join(labels), "--featurizer", "glove50",
            "--db", db, "--batch", "10"]  # fmt: skip
    return start_server(args, port, env=env, timeout=600)


class Databases:
    """A fresh database per phase: a SQLite file in ``work``, or a new database on the
    PostgreSQL server at ``server`` (a URL of a database there that may create databases)."""

    def __init__(self, work: Path, server: str | None) -> None:
        self.work, self.server = work, server

    def new(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.work / name}.sqlite"
        return new_database(self.server)

    def describe(self) -> str:
        if self.server is None:
            return "SQLite (WAL, synchronous=NORMAL)"
        engine = sa.create_engine(self.server)
        try:
            with engine.connect() as conn:
                version = conn.exec_driver_sql("show server_version").scalar()
                fsync = conn.exec_driver_sql("show fsync").scalar()
                sync = conn.exec_driver_sql("show synchronous_commit").scalar()
        finally:
            engine.dispose()
        return (
            f"PostgreSQL {version} on 127.0.0.1 (fsync={fsync}, synchronous_commit={sync}; "
            "psycopg 3, SQLAlchemy's default pool of 5 + 10 connections per server process)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", type=int, default=20_000)
    ap.add_argument("--items", type=int, default=2_000)
    ap.add_argument("--annotators", type=int, default=20)
    ap.add_argument("--solo-clicks", type=int, default=300)
    ap.add_argument("--crowd-clicks", type=int, default=40, help="per annotator, latency phase")
    ap.add_argument("--kill-after", type=int, default=600)
    ap.add_argument("--deadline", type=float, default=300.0, help="seconds per phase")
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "datasets"))
    ap.add_argument(
        "--postgres",
        action="store_true",
        help="use a throwaway PostgreSQL server (Debian's binaries, /usr/lib/postgresql/*/bin) "
        "instead of SQLite",
    )
    ap.add_argument(
        "--postgres-url",
        help="use this PostgreSQL server instead (a postgresql+psycopg:// URL of a database "
        "there; each phase creates a database of its own)",
    )
    ap.add_argument(
        "--side-clicks",
        type=int,
        default=300,
        help="with PostgreSQL: clicks per database in the side-by-side comparison (phase 0)",
    )
    ap.add_argument("--out", help="default: benchmarks/results/label_load[_postgres].md")
    args = ap.parse_args()
    pg = args.postgres or args.postgres_url is not None
    args.out = args.out or str(
        ROOT / "benchmarks" / "results" / ("label_load_postgres.md" if pg else "label_load.md")
    )
    with contextlib.ExitStack() as stack:
        server = None
        if args.postgres_url:
            server = args.postgres_url
        elif args.postgres:  # durable, like a real one: fsync on (the tests' cluster has it off)
            server = stack.enter_context(postgres_server(fsync=True))
        ok = run(args, server)
    sys.exit(0 if ok else 1)


def side_by_side(texts: list[str], work: Path, server: str, clicks: int) -> list[str]:
    """The database's part of a click (``answer`` + ``lease_next``, in this process, no HTTP)
    on a SQLite file and on the PostgreSQL server, interleaved click by click so that both see
    the same machine load; the lines of the results."""
    from littledata.label_app.session import queue_order
    from littledata.label_app.store import LabelStore

    stores = {"SQLite": LabelStore(f"sqlite:///{work / 'side.sqlite'}"),
              "PostgreSQL": LabelStore(new_database(server))}  # fmt: skip
    order = queue_order(len(texts), 0)
    for store in stores.values():
        store.add_items(texts, order=order)
        store.set_ranking(order[:200], order)  # as a round leaves the queue
    times: dict[str, list[float]] = {name: [] for name in stores}
    for _ in range(clicks):
        for name, store in stores.items():
            start = time.perf_counter()
            item = store.lease_next("ann")
            assert item is not None
            store.answer(item.id, "ann", "label", "x")
            times[name].append(1000 * (time.perf_counter() - start))
    for store in stores.values():
        store.close()
    sq, pg = times["SQLite"], times["PostgreSQL"]
    return [
        f"## 0. The database's part of a click, SQLite and PostgreSQL side by side "
        f"({len(texts):,} items)",
        "",
        f"`lease_next` + `answer` in this process (no HTTP, no retraining), {clicks} clicks on "
        "each, alternating between the two stores click by click:",
        "",
        "| database | p50 ms | p95 ms |",
        "|---|---|---|",
        *[f"| {k} | {pct(v, 50):.2f} | {pct(v, 95):.2f} |" for k, v in times.items()],
        "",
        f"PostgreSQL / SQLite: p50 {pct(pg, 50) / pct(sq, 50):.1f}x, "
        f"p95 {pct(pg, 95) / pct(sq, 95):.1f}x.",
        "",
    ]


def run(args: argparse.Namespace, server: str | None) -> bool:
    """Every phase; writes and prints the results; whether every check passed."""
    work = Path(tempfile.mkdtemp(prefix="littledata-label-load-"))
    dbs = Databases(work, server)
    env = {"LITTLEDATA_HOME": os.environ.get("LITTLEDATA_HOME", str(work / "home"))}
    texts, truth, labels = load_pool(max(args.pool, args.items), args.mirror)
    lines = ["# Labeling app load test (`python benchmarks/label_load.py`)", "", *machine_lines()]
    lines += [f"- command: `python benchmarks/label_load.py {' '.join(sys.argv[1:])}`".rstrip(),
              f"- data: davidson_hate texts ({len(labels)} labels), featurizer glove50, head "
              "logreg, strategy margin, retrain every 10 answers",
              f"- database: {dbs.describe()}", ""]  # fmt: skip
    ok = True
    if server is not None:
        lines += side_by_side(texts[: args.pool], work, server, args.side_clicks)

    # 1. latency on the big pool
    pool_csv, db = work / "pool.csv", dbs.new("latency")
    write_pool(pool_csv, texts[: args.pool])
    port = free_port()
    started = time.perf_counter()
    proc = serve(pool_csv, db, labels, port, env)
    startup = time.perf_counter() - started
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + args.deadline
        solo = run_annotators(base, truth, 1, deadline=deadline, max_labels=args.solo_clicks,
                              prefix="solo")  # fmt: skip
        crowd = run_annotators(base, truth, args.annotators, deadline=time.monotonic()
                               + args.deadline, max_labels=args.crowd_clicks)  # fmt: skip
        time.sleep(3)  # the last round
    finally:
        stop_server(proc)
    facts = db_facts(db)
    solo_ms = [1000 * x for a in solo for x in a.latencies]
    crowd_ms = [1000 * x for a in crowd for x in a.latencies]
    solo_app = [x for a in solo for x in a.server_ms]
    crowd_app = [x for a in crowd for x in a.server_ms]
    rounds = [r for r in facts["rounds"] if r[0] > 0]  # type: ignore[index, union-attr]
    cold = [r[1] for r in facts["rounds"] if r[0] == 0]  # type: ignore[index, union-attr]
    fits = [r[1] for r in rounds]
    lines += [
        f"## 1. Click to next item, pool of {args.pool:,} rows",
        "",
        f"Server start (load the pool, glove50 features, first round): {startup:.1f} s.",
        "",
        "Click to next item: one `POST /api/answer` (its answer is the next item), measured at "
        "the client; \"in the app\": the same request's time inside the server (its "
        "`Server-Timing` header: the database work and the suggestion, without HTTP and "
        "queueing for a thread).",
        "",
        "| annotators | clicks | p50 ms | p95 ms | max ms | in the app p50 / p95 ms | "
        "target p95 ≤ 150 ms |",
        "|---|---|---|---|---|---|---|",
        f"| 1 | {len(solo_ms)} | {pct(solo_ms, 50):.1f} | {pct(solo_ms, 95):.1f} | "
        f"{max(solo_ms):.1f} | {pct(solo_app, 50):.1f} / {pct(solo_app, 95):.1f} | "
        f"{'met' if pct(solo_ms, 95) <= 150 else 'NOT met'} |",
        f"| {args.annotators} at once | {len(crowd_ms)} | {pct(crowd_ms, 50):.1f} | "
        f"{pct(crowd_ms, 95):.1f} | {max(crowd_ms):.1f} | {pct(crowd_app, 50):.1f} / "
        f"{pct(crowd_app, 95):.1f} | {'met' if pct(crowd_ms, 95) <= 150 else 'NOT met'} |",
        "",
        f"Retraining: {len(rounds)} rounds with labels (from {rounds[0][0]} to {rounds[-1][0]} "
        f"labels); seconds per round (fit + query over the pool + 5-fold CV accuracy + stop "
        f"check + queue update): median {statistics.median(fits):.2f}, max {max(fits):.2f}. "
        f"The first round (no labels: the cold-start strategy over the whole pool, in the "
        f"background while the first clicks are served in the seeded order): "
        f"{', '.join(f'{c:.1f}' for c in cold) or '–'} s.",
        "",
    ] if rounds else ["No round with labels was recorded.", ""]  # fmt: skip
    errors = [a.error for a in solo + crowd if a.error]
    if errors:
        lines += [f"Errors: {errors[:5]}", ""]
        ok = False

    # 2. load: drain a fresh pool
    pool_csv, db = work / "items.csv", dbs.new("load")
    write_pool(pool_csv, texts[: args.items])
    port = free_port()
    proc = serve(pool_csv, db, labels, port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        people = run_annotators(base, truth, args.annotators,
                                deadline=time.monotonic() + args.deadline)  # fmt: skip
        wall = time.perf_counter() - started
    finally:
        stop_server(proc)
    facts = db_facts(db)
    acked = {(a.name, i) for a in people for i in a.acked}
    lost = len(acked - facts["pairs"])  # type: ignore[operator]
    ms = [1000 * x for a in people for x in a.latencies]
    app_ms = [x for a in people for x in a.server_ms]
    checks = {
        "labels acknowledged": len(acked),
        "labels in the database": facts["labels"],
        "acknowledged but lost": lost,
        "items labeled more often than required": facts["over"],
        "items whose label count disagrees with n_done": facts["mismatch"],
        "open items left (queue drained: 0)": facts["open"],
        "database intact (integrity check)": facts["integrity"],
        "annotator errors": sum(1 for a in people if a.error),
    }
    ok &= lost == 0 and facts["over"] == 0 and facts["open"] == 0 and facts["mismatch"] == 0
    ok &= facts["integrity"] == "ok" and len(acked) == args.items
    lines += [
        f"## 2. {args.annotators} annotators drain {args.items:,} items",
        "",
        f"Wall time {wall:.1f} s: **{len(acked) / wall:.0f} labels/s**; click to next item "
        f"p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms (in the app p50 "
        f"{pct(app_ms, 50):.1f}, p95 {pct(app_ms, 95):.1f} ms).",
        "",
        "| check | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in checks.items()],
        "",
    ]

    # 3. kill -9 in the middle
    db = dbs.new("kill")
    port = free_port()
    proc = serve(pool_csv, db, labels, port, env)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    holder: dict[str, list[Annotator]] = {}

    def crowd_run() -> None:
        holder["people"] = run_annotators(base, truth, args.annotators, stop=stop,
                                          deadline=time.monotonic() + args.deadline)  # fmt: skip

    runner = threading.Thread(target=crowd_run)
    runner.start()
    end = time.monotonic() + args.deadline
    while time.monotonic() < end:
        time.sleep(0.05)
        if db_count(db) >= args.kill_after:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    runner.join(120)
    people = holder.get("people", [])
    facts = db_facts(db)
    acked = {(a.name, i) for a in people for i in a.acked}
    in_flight = {(a.name, a.in_flight) for a in people if a.in_flight is not None}
    lost = len(acked - facts["pairs"])  # type: ignore[operator]
    extra = facts["pairs"] - acked  # type: ignore[operator]
    ok &= lost == 0 and extra <= in_flight and facts["integrity"] == "ok"
    kill_rows = {
        "labels acknowledged before the kill": len(acked),
        "labels in the database after the kill": facts["labels"],
        "acknowledged but lost": lost,
        "in the database, not acknowledged (all in flight)": f"{len(extra)} (in flight: "
        f"{len(in_flight)}; all of them in flight: {extra <= in_flight})",
        "database intact (integrity check)": facts["integrity"],
    }
    proc = serve(pool_csv, db, labels, port, env)
    try:
        people2 = run_annotators(base, truth, args.annotators,
                                 deadline=time.monotonic() + args.deadline)  # fmt: skip
    finally:
        stop_server(proc)
    facts = db_facts(db)
    ok &= facts["open"] == 0 and facts["over"] == 0 and facts["labels"] == args.items
    kill_rows.update(
        {
            "after a restart on the same database: labels": facts["labels"],
            "items labeled more often than required": facts["over"],
            "open items left": facts["open"],
            "items whose label count disagrees with n_done": facts["mismatch"],
            "database intact after the restart": facts["integrity"],
            "annotator errors after the restart": sum(1 for a in people2 if a.error),
        }
    )
    lines += [
        f"## 3. kill -9 of the server after about {args.kill_after} labels",
        "",
        "| check | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in kill_rows.items()],
        "",
        f"**All checks {'passed' if ok else 'FAILED'}.**",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return bool(ok)


def db_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "select count(*) from label_answers where kind='label'"
                ).scalar_one()
            )
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
