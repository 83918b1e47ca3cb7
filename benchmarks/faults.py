"""Replay crashes, concurrency and tampering against `littledata bench` on a tiny real grid.

Usage (from the repository root, with the project's virtual environment active)::

    python benchmarks/faults.py                          # this checkout
    python benchmarks/faults.py --baseline 01f79f5       # and the same faults against a commit

Every scenario runs the real ``littledata`` command in subprocesses, each in a fresh data home,
results store, report folder and temp folder (``TMPDIR``) of its own, on the grid
trec + sst2 × glove50 + tfidf × knn, centroid, logreg × 20, 50 rows × 2 seeds (48 trials; train
pool capped at 2000 rows, test at 300; 2 workers). Dataset files come from the mirror.

Faults:

- ``kill:featurize`` / ``kill:trials`` / ``kill:report``: ``kill -9`` of the bench process (the
  process alone, as a user or the OOM killer does) while it writes a feature cache entry, after
  its first 5 trials are stored, and while it writes the report; then the same command again.
- ``concurrent``: two identical benches started at once.
- ``clear``: ``cache clear`` in a loop (another process) for the whole run.
- ``tamper``: after a complete run, every feature cache entry is damaged (a flipped byte, a
  truncated file, garbled metadata, a removed ``.npy``); the results store is emptied and the
  bench run again: the results must be bit-identical to the clean run's.

Columns: trials lost (planned trials missing once the scenario's runs are over; a killed run's
in-flight trials do not count once the rerun stored them), failed trials (recorded as failed),
duplicates (stored twice), reported "ran" (summed over the scenario's runs after the fault),
orphan processes (children of the killed process still alive 5 s after the kill; the script
then kills them), leftover temporary files (temporary files and work folders in the data home,
the report folder and the temp folder, after the kill and after the next run).

``--baseline REF`` exports ``git archive REF littledata`` into a temporary folder and runs the
same faults with it first on ``PYTHONPATH`` (spawned workers inherit it), so both versions are
measured side by side in one run. The table goes to ``benchmarks/results/faults.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_time import commit, machine  # noqa: E402

GRID = [
    "datasets=trec,sst2",
    "featurizers=glove50,tfidf",
    "heads=knn,centroid,logreg",
    "sizes=20,50",
    "seeds=2",
    "train_pool_cap=2000",
    "test_cap=300",
    "n_jobs=2",
]
SCENARIOS = ("kill:featurize", "kill:trials", "kill:report", "concurrent", "clear", "tamper")


class Scenario:
    """One scenario's folders, environment and command."""

    def __init__(self, root: Path, name: str, mirror: str, code: Path | None) -> None:
        self.root = root / name.replace(":", "-")
        self.home, self.tmp, self.out = self.root / "home", self.root / "tmp", self.root / "report"
        for folder in (self.home, self.tmp):
            folder.mkdir(parents=True)
        self.db = self.root / "results.sqlite"
        self.env = dict(
            os.environ,
            LITTLEDATA_HOME=str(self.home),
            LITTLEDATA_MIRROR=mirror,
            TMPDIR=str(self.tmp),
            COLUMNS="200",
            PYTHONUNBUFFERED="1",  # the summary lines reach the log before the report starts
        )
        if code is not None:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(code), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        self.runs = 0
        self.logs: dict[int, Path] = {}

    def command(self, *extra: str) -> list[str]:
        return [sys.executable, "-c", "from littledata.cli import main; main()", *extra]

    def bench(self) -> list[str]:
        return self.command("bench", *GRID, "--db", f"sqlite:///{self.db}", "--out", str(self.out))

    def start(self) -> subprocess.Popen[str]:
        """Start the bench; its output goes to run<N>.stdout.txt / .stderr.txt."""
        self.runs += 1
        log = self.root / f"run{self.runs}"
        with open(f"{log}.stdout.txt", "w") as out, open(f"{log}.stderr.txt", "w") as err:
            # cwd: not the repository, whose littledata/ would shadow PYTHONPATH's (-c puts the
            # working directory first on sys.path)
            proc = subprocess.Popen(
                self.bench(), env=self.env, stdout=out, stderr=err, text=True, cwd=self.root
            )
        self.logs[proc.pid] = log
        return proc

    def finish(self, proc: subprocess.Popen[str], timeout: float = 900) -> dict[str, Any]:
        """Wait for a bench; its exit code and summary figures."""
        proc.wait(timeout=timeout)
        out = Path(f"{self.logs[proc.pid]}.stdout.txt").read_text()
        return {"rc": proc.returncode, **parse(out)}

    def stderr(self, proc: subprocess.Popen[str]) -> str:
        return Path(f"{self.logs[proc.pid]}.stderr.txt").read_text()


def parse(stdout: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m := re.search(r"(\d+) trials planned", stdout):
        out["planned"] = int(m[1])
    if m := re.search(r"ran (\d+), already stored (\d+)", stdout):
        out["ran"], out["already"] = int(m[1]), int(m[2])
    out["by_other"] = int(m[1]) if (m := re.search(r"done by another run (\d+)", stdout)) else 0
    if m := re.search(r"failed (\d+), skipped", stdout):
        out["failed"] = int(m[1])
    return out


def store_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db, timeout=60)
    try:
        stored, distinct = con.execute(
            "select count(*), count(distinct key) from trials"
        ).fetchone()
        per_trial = con.execute(
            "select count(*) from (select trial_id, count(*) c from measurements group by trial_id)"
            " group by c"
        ).fetchall()
        failed = con.execute("select count(*) from failures").fetchone()[0]
    except sqlite3.OperationalError:
        return {"stored": 0, "distinct": 0, "shapes": 0, "failures": 0}
    finally:
        con.close()
    return {"stored": stored, "distinct": distinct, "shapes": len(per_trial), "failures": failed}


def accuracies(db: Path) -> dict[str, float]:
    con = sqlite3.connect(db, timeout=60)
    try:
        rows = con.execute(
            "select t.key, m.value from trials t join measurements m on m.trial_id = t.id"
            " where m.metric = 'accuracy'"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
                out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def leftovers(sc: Scenario) -> list[str]:
    """Temporary files and work folders left in the scenario's data home, report and temp dir."""
    found = [str(p.relative_to(sc.root)) for p in sc.tmp.glob("littledata-bench-*")]
    for folder in (sc.home, sc.out):
        if folder.exists():
            found += [str(p.relative_to(sc.root)) for p in folder.rglob(".*.tmp")]
    return sorted(found)


def wait_for(predicate: Any, proc: subprocess.Popen[str], timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def writing_report(sc: Scenario, proc: subprocess.Popen[str], kids: list[int]) -> bool:
    """Wait until the run has printed its summary (the report comes next; ``kids`` gets its
    children then), then watch the report folder without pausing until a temporary file of the
    report appears (False if the report was done first)."""
    log = Path(f"{sc.logs[proc.pid]}.stdout.txt")
    if not wait_for(lambda: "skipped combinations" in log.read_text(), proc):
        return False
    kids += children(proc.pid)
    while proc.poll() is None:
        if sc.out.exists() and any(sc.out.glob(".*.tmp")):
            return True
    return False


def kill_scenario(sc: Scenario, phase: str) -> dict[str, Any]:
    features = sc.home / "features"
    predicates = {
        "featurize": lambda: features.exists() and any(features.glob(".*.npy.tmp")),
        "trials": lambda: sc.db.exists() and store_counts(sc.db)["stored"] >= 5,
    }
    proc = sc.start()
    kids: list[int] = []
    if phase == "report":
        hit = writing_report(sc, proc, kids)
    else:
        hit = wait_for(predicates[phase], proc)
        kids += children(proc.pid)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(5)
    orphans = [k for k in kids if alive(k)]
    for k in orphans:  # this script started them: end them before going on
        os.kill(k, signal.SIGKILL)
    left_by_kill = leftovers(sc)
    at_kill = store_counts(sc.db) if sc.db.exists() else {"stored": 0}
    rerun = sc.finish(sc.start())
    counts = store_counts(sc.db)
    return {
        "injected": 1 if hit else 0,
        "note": f"killed in phase {phase}" if hit else f"phase {phase} not caught (run ended)",
        "stored_at_kill": at_kill["stored"],
        "planned": rerun.get("planned"),
        "lost": (rerun.get("planned") or 0) - counts["distinct"],
        "failed": rerun.get("failed", 0),
        "duplicates": counts["stored"] - counts["distinct"],
        "ran": rerun.get("ran"),
        "orphans": len(orphans),
        "left_by_kill": len(left_by_kill),
        "left_after_rerun": leftovers(sc),
        "rc": rerun["rc"],
    }


def concurrent_scenario(sc: Scenario) -> dict[str, Any]:
    procs = [sc.start(), sc.start()]
    results = [sc.finish(proc) for proc in procs]
    counts = store_counts(sc.db)
    planned = results[0].get("planned") or 0
    return {
        "injected": 1,
        "note": "runs reported ran " + " + ".join(str(r.get("ran")) for r in results),
        "planned": planned,
        "lost": planned - counts["distinct"],
        "failed": sum(r.get("failed", 0) for r in results),
        "duplicates": counts["stored"] - counts["distinct"],
        "ran": sum(r.get("ran") or 0 for r in results),
        "orphans": 0,
        "left_by_kill": 0,
        "left_after_rerun": leftovers(sc),
        "rc": max(r["rc"] for r in results),
    }


CLEAR_LOOP = """
import sys, pathlib
from littledata.features import cache
stop, n = pathlib.Path(sys.argv[1]), 0
while not stop.exists():
    cache.clear()
    n += 1
print(n)
"""


def clear_scenario(sc: Scenario) -> dict[str, Any]:
    stop = sc.root / "stop"
    bench = sc.start()
    clearer = subprocess.Popen(
        [sys.executable, "-c", CLEAR_LOOP, str(stop)],
        env=sc.env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=sc.root,
    )
    try:
        result = sc.finish(bench)
    finally:
        stop.touch()
    clears = int((clearer.communicate(timeout=120)[0] or "0").strip() or 0)
    counts = store_counts(sc.db)
    planned = result.get("planned") or 0
    return {
        "injected": clears,
        "note": f"{clears} cache clears during the run",
        "planned": planned,
        "lost": planned - counts["distinct"],
        "failed": result.get("failed", 0),
        "duplicates": counts["stored"] - counts["distinct"],
        "ran": result.get("ran"),
        "orphans": 0,
        "left_by_kill": 0,
        "left_after_rerun": leftovers(sc),
        "rc": result["rc"],
    }


def tamper_scenario(sc: Scenario) -> dict[str, Any]:
    clean = sc.finish(sc.start())
    before = accuracies(sc.db)
    entries = sorted((sc.home / "features").glob("*.npy"))
    damages = ("flip", "truncate", "garble-json", "drop-npy")
    for i, npy in enumerate(entries):
        kind = damages[i % len(damages)]
        if kind == "flip":
            data = bytearray(npy.read_bytes())
            data[-5] ^= 0xFF
            npy.write_bytes(bytes(data))
        elif kind == "truncate":
            npy.write_bytes(npy.read_bytes()[:-64])
        elif kind == "garble-json":
            npy.with_suffix(".json").write_text('{"fingerprint": ')
        else:
            npy.unlink()
    sc.db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{sc.db}{suffix}").unlink(missing_ok=True)
    proc = sc.start()
    again = sc.finish(proc)
    after = accuracies(sc.db)
    detected = len(re.findall(r"is corrupt", sc.stderr(proc)))
    counts = store_counts(sc.db)
    differ = sum(before.get(k) != v for k, v in after.items())
    return {
        "injected": len(entries),
        "note": f"{len(entries)} entries damaged, {detected} reported corrupt and recomputed; "
        + ("results bit-identical to the clean run" if not differ else f"{differ} results DIFFER"),
        "planned": again.get("planned"),
        "lost": (again.get("planned") or 0) - counts["distinct"],
        "failed": again.get("failed", 0) + clean.get("failed", 0),
        "duplicates": counts["stored"] - counts["distinct"],
        "ran": again.get("ran"),
        "orphans": 0,
        "left_by_kill": 0,
        "left_after_rerun": leftovers(sc),
        "rc": max(clean["rc"], again["rc"]),
    }


def run_all(label: str, code: Path | None, root: Path, mirror: str, only: list[str]) -> list[dict]:
    rows = []
    for name in only:
        sc = Scenario(root / label, name, mirror, code)
        print(f"[{label}] {name} ...", flush=True)
        start = time.perf_counter()
        if name.startswith("kill:"):
            row = kill_scenario(sc, name.split(":")[1])
        elif name == "concurrent":
            row = concurrent_scenario(sc)
        elif name == "clear":
            row = clear_scenario(sc)
        else:
            row = tamper_scenario(sc)
        row.update(fault=name, version=label, seconds=time.perf_counter() - start)
        print(f"[{label}] {name}: {json.dumps(row, default=str)}", flush=True)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| fault | version | injected | trials lost | failed | duplicates | reported ran "
        "| orphan processes | leftovers after the fault → after the next run | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        after = r["left_after_rerun"]
        lines.append(
            f"| {r['fault']} | {r['version']} | {r['injected']} | {r['lost']} | {r['failed']} | "
            f"{r['duplicates']} | {r['ran']} (of {r['planned']}) | {r['orphans']} | "
            f"{r['left_by_kill']} → {len(after)} | {r['note']}"
            + (f"; exit {r['rc']}" if r["rc"] else "")
            + (f"; left: {', '.join(after[:3])}" if after else "")
            + " |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--baseline", help="also run the faults against this commit's code")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated faults")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "faults.md"))
    parser.add_argument("--keep", action="store_true", help="keep the scenario folders")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown faults {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    root = Path(tempfile.mkdtemp(prefix="littledata-faults-"))
    started = dt.datetime.now().astimezone()
    rows: list[dict] = []
    try:
        if args.baseline:
            code = root / "baseline-code"
            code.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.baseline, "littledata"], cwd=REPO, capture_output=True,
                check=True,
            )  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
            rows += run_all(f"{args.baseline} (before)", code, root, args.mirror, only)
        rows += run_all(f"{commit()} (this branch)", None, root, args.mirror, only)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"scenario folders kept in {root}")
    lines = table(rows)
    print("\n".join(lines))
    head = [
        "# Fault injection: `python benchmarks/faults.py"
        + (f" --baseline {args.baseline}" if args.baseline else "")
        + "`",
        "",
        f"{started:%Y-%m-%d %H:%M %Z}; {machine()}; commit {commit()}.",
        "",
        "Grid: " + " ".join(GRID) + " (real datasets from the mirror). Each fault runs in fresh "
        "folders; see the script's docstring for what each column counts. Total time "
        f"{sum(r['seconds'] for r in rows) / 60:.1f} min.",
        "",
    ]
    Path(args.out).write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
