"""Wall-clock time of `littledata bench`: cold, with features cached, fully stored, and --quick.

Usage (from the repository root, with the project's virtual environment active)::

    python benchmarks/bench_time.py                      # all four scenarios (~30+ minutes)
    python benchmarks/bench_time.py --only quick         # just `bench --quick` from a cold cache
    python benchmarks/bench_time.py --only cold,cached,stored --jobs 2

Scenarios (each runs the real `littledata` command in a subprocess):

- ``quick``:  `littledata bench --quick` with a fresh, empty data home (cold feature cache, no
  stored results); dataset files come from the mirror (default ../shared/datasets).
- ``cold``:   `littledata bench` (the default spec) with a fresh, empty data home.
- ``cached``: `littledata bench` again in the data home of ``cold`` (features cached) but with a
  new, empty results store, so every trial runs again: the "features cached" figure.
- ``stored``: `littledata bench` a third time, same data home and store: every trial is already
  stored, so this is loading, planning and the report only.

Targets on the 2-core development machine: cold <= 30 min, cached <= 3 min, quick <= 3 min.
The figures go to benchmarks/results/bench_time.md as a markdown table with the machine and date.
Run it on a quiet machine: anything else using the CPU inflates every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"quick": 180.0, "cold": 1800.0, "cached": 180.0, "stored": None}
ORDER = ("quick", "cold", "cached", "stored")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024**2:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {cores} cores{mem}, {system}, Python {platform.python_version()}"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def run(name: str, args: list[str], home: Path, log_dir: Path) -> dict[str, object]:
    env = dict(os.environ, LITTLEDATA_HOME=str(home), COLUMNS="160")
    exe = shutil.which("littledata") or sys.executable
    cmd = [exe, *args] if exe.endswith("littledata") else [exe, "-m", "littledata.cli", *args]
    print(f"[{name}] {' '.join(args)}  (LITTLEDATA_HOME={home})", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (log_dir / f"{name}.stdout.txt").write_text(proc.stdout)
    (log_dir / f"{name}.stderr.txt").write_text(proc.stderr)
    print(f"[{name}] exit {proc.returncode} after {seconds:.0f} s", flush=True)
    summary = {}
    m = re.search(r"ran (\d+), already stored (\d+), failed (\d+)", proc.stdout)
    if m:
        summary = {"ran": int(m[1]), "stored": int(m[2]), "failed": int(m[3])}
    m = re.search(r"features ([\d.]+)s, trials ([\d.]+)s on (\d+) worker", proc.stdout)
    if m:
        summary.update(features=float(m[1]), trials=float(m[2]), workers=int(m[3]))
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
    return {"name": name, "args": args, "seconds": seconds, "rc": proc.returncode, **summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--only", default=",".join(ORDER), help="comma-separated scenarios")
    parser.add_argument("--jobs", type=int, default=None, help="passed as --jobs to bench")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "bench_time.md"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary data homes")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(ORDER)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(ORDER)}")
    extra = ["--mirror", args.mirror] + ([] if args.jobs is None else ["--jobs", str(args.jobs)])
    root = Path(tempfile.mkdtemp(prefix="littledata-bench-time-"))
    logs = root / "logs"
    logs.mkdir()
    rows = []
    started = dt.datetime.now().astimezone()
    try:
        if "quick" in wanted:
            home = root / "home-quick"
            rows.append(run("quick", ["bench", "--quick", *extra], home, logs))
        home = root / "home-full"
        if "cold" in wanted:
            rows.append(run("cold", ["bench", *extra], home, logs))
        if "cached" in wanted:
            if "cold" not in wanted:  # fill the feature cache first, untimed
                run("warm-up", ["bench", *extra, "--no-report"], home, logs)
            db = f"sqlite:///{home / 'results-cached.sqlite'}"
            rows.append(run("cached", ["bench", *extra, "--db", db], home, logs))
        if "stored" in wanted:
            if not (home / "results.sqlite").exists():
                run("warm-up", ["bench", *extra, "--no-report"], home, logs)
            rows.append(run("stored", ["bench", *extra], home, logs))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")

    lines = [
        "# `littledata bench` wall-clock time",
        "",
        f"- machine: {machine()}",
        f"- date: {started:%Y-%m-%d %H:%M %Z}; commit {commit()}",
        f"- mirror: `{args.mirror}`; command: `python benchmarks/bench_time.py --only {args.only}`"
        + ("" if args.jobs is None else f" --jobs {args.jobs}"),
        "",
        "| scenario | command | time | target | met | trials ran / already stored / failed |"
        " features s | trials s | workers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        target = TARGETS.get(str(r["name"]))
        met = (
            "–" if target is None else ("yes" if r["seconds"] <= target and r["rc"] == 0 else "NO")
        )
        trials = f"{r.get('ran', '?')} / {r.get('stored', '?')} / {r.get('failed', '?')}"
        command = " ".join(str(a) for a in r["args"] if a not in ("--mirror", args.mirror))
        lines.append(
            f"| {r['name']} | `littledata {command}`"
            f" | {r['seconds'] / 60:.1f} min ({r['seconds']:.0f} s) | "
            f"{'–' if target is None else f'{target / 60:.0f} min'} | {met} | {trials} | "
            f"{r.get('features', '?')} | {r.get('trials', '?')} | {r.get('workers', '?')} |"
        )
    lines += [
        "",
        "quick: fresh data home; cold: fresh data home, default spec; cached: features cached, "
        "new results store (every trial runs); stored: every trial already stored (load, plan, "
        "report).",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
