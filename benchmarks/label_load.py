"""Load test of the labeling app: many annotators at once over HTTP, a kill -9, latency, retraining.

Runs ``littledata label`` as a real server (uvicorn, loopback only) on a SQLite database and drives
it with simulated annotators (threads, one HTTP client each; each asks for an item and answers it
with the right label, which the server answers with the next item).

1. **Latency** on a pool of ``--pool`` rows (20,000 by default, from davidson_hate's splits): the
   time from a label click to the next item (one ``POST /api/answer``, whose answer is the next
   item, measured at the client), p50 / p95, for one annotator alone and for ``--annotators``
   at once; the model retrains in the background meanwhile. Retrain time per round from the
   database's rounds (fit, query, cross-validated accuracy, stopping check).
2. **Load**: ``--annotators`` annotators label a fresh pool of ``--items`` rows until the queue
   is drained. Checks: every acknowledged label is in the database (0 lost), no item holds more
   labels than it needs (0 double-labeled), 0 open items, ``PRAGMA integrity_check`` ok.
   Throughput in labels per second.
3. **kill -9**: the same on another fresh pool, but the server is killed with SIGKILL after
   ``--kill-after`` acknowledged labels. Checks: every acknowledged label survived; the labels
   the database holds beyond those are at most the ones in flight (one per annotator); the
   database is intact. The server is started again on the same database and the annotators
   finish: drained, no double labels.

Writes ``benchmarks/results/label_load.md`` and prints it. Bounded: every phase has a deadline.

Example::

    python benchmarks/label_load.py                 # the full run (a few minutes)
    python benchmarks/label_load.py --pool 3000 --items 500 --annotators 5   # quick
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from active import machine_lines  # noqa: E402

from tests.label_helpers import free_port, start_server, stop_server  # noqa: E402


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


def db_facts(path: Path) -> dict[str, object]:
    con = sqlite3.connect(path)
    try:
        q = con.execute
        return {
            "integrity": q("PRAGMA integrity_check").fetchone()[0],
            "labels": q("select count(*) from label_answers where kind='label'").fetchone()[0],
            "pairs": set(q("select annotator, item_id from label_answers where kind='label'")),
            "over": q(
                "select count(*) from (select a.item_id from label_answers a join label_items i "
                "on i.id=a.item_id where a.kind='label' group by a.item_id, i.required "
                "having count(*) > i.required)"
            ).fetchone()[0],
            "open": q("select count(*) from label_items where complete = 0").fetchone()[0],
            "mismatch": q(
                "select count(*) from label_items i where i.n_done != (select count(*) from "
                "label_answers a where a.item_id = i.id and a.kind = 'label')"
            ).fetchone()[0],
            "rounds": q("select n_labels, fit_seconds from label_rounds order by id").fetchall(),
        }
    finally:
        con.close()


def serve(pool_csv: Path, db: Path, labels: list[str], port: int, env: dict[str, str]):
    args = [str(pool_csv), "--labels", ",".join(labels), "--featurizer", "glove50",
            "--db", f"sqlite:///{db}", "--batch", "10"]  # fmt: skip
    return start_server(args, port, env=env, timeout=600)


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
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "label_load.md"))
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="littledata-label-load-"))
    env = {"LITTLEDATA_HOME": os.environ.get("LITTLEDATA_HOME", str(work / "home"))}
    texts, truth, labels = load_pool(max(args.pool, args.items), args.mirror)
    lines = ["# Labeling app load test (`python benchmarks/label_load.py`)", "", *machine_lines()]
    lines += [f"- command: `python benchmarks/label_load.py {' '.join(sys.argv[1:])}`".rstrip(),
              f"- data: davidson_hate texts ({len(labels)} labels), featurizer glove50, head "
              "logreg, strategy margin, retrain every 10 answers, SQLite (WAL)", ""]  # fmt: skip
    ok = True

    # 1. latency on the big pool
    pool_csv, db = work / "pool.csv", work / "latency.sqlite"
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
    pool_csv, db = work / "items.csv", work / "load.sqlite"
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
        "integrity_check": facts["integrity"],
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
    db = work / "kill.sqlite"
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
        "integrity_check": facts["integrity"],
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
            "integrity_check after the restart": facts["integrity"],
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
    sys.exit(0 if ok else 1)


def db_count(path: Path) -> int:
    try:
        con = sqlite3.connect(path, timeout=5)
        try:
            return int(
                con.execute("select count(*) from label_answers where kind='label'").fetchone()[0]
            )
        finally:
            con.close()
    except sqlite3.Error:
        return 0


if __name__ == "__main__":
    main()
