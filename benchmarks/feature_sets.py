"""Where a cold run's feature time goes: each (dataset, featurizer) set timed against the plan.

Prepares the datasets of a spec (its caps) in a data home of its own, then computes each
(dataset, featurizer) set's features as ``littledata bench`` does (``features_refs``: pool and
test, pair sides apart, words of sentences for token heads), one after the other in this process
(featurizers loaded once, as in a run), and reports per set: texts, the cost model's estimated
tokens, the plan's estimate with the cost model's default rates, the measured seconds and their
ratio. It runs no trials. ``--home`` should be a new folder (a cold feature cache).

Usage (repository root, project venv active)::

    python benchmarks/feature_sets.py --home /tmp/fs-home --mirror ../shared/datasets \\
        datasets=msrp,goemotions-ekman,conll2003

Writes ``benchmarks/results/feature_sets.md`` and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "results" / "feature_sets.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="spec overrides KEY=VALUE")
    parser.add_argument("--spec", default="default", help="packaged spec (default: default)")
    parser.add_argument("--home", required=True, help="the data home (a new folder: cold)")
    parser.add_argument("--mirror", default=os.environ.get("LITTLEDATA_MIRROR"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    os.environ["LITTLEDATA_HOME"] = str(Path(args.home).resolve())

    from littledata.datasets import load_dataset
    from littledata.experiments.estimate import CostModel, encoder_kind, estimate_tokens
    from littledata.experiments.prepare import features_refs, featurizer_by_name, prepare_dataset
    from littledata.experiments.spec import load_spec, parse_overrides

    spec = load_spec(overrides=parse_overrides(args.overrides), packaged=args.spec)
    defaults = CostModel()  # the rates a first run on a machine plans with
    rows = []
    featurizers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as held:
        for name in spec.datasets:
            prep = prepare_dataset(name, spec, lambda n: load_dataset(n, mirror=args.mirror))
            for fname in spec.featurizers:
                if fname not in featurizers:  # loaded once, as in a run
                    featurizers[fname] = featurizer_by_name(fname)
                fz = featurizers[fname]
                texts = len(prep.pool_texts) + len(prep.test_texts)
                tokens = estimate_tokens(prep.pool_texts) + estimate_tokens(prep.test_texts)
                kind = encoder_kind(fz)
                start = time.perf_counter()
                try:
                    features_refs(fz, prep, Path(tmp), held)
                except Exception as exc:  # e.g. tf-idf has no word features for token heads
                    print(f"{name} × {fname}: {type(exc).__name__}: {exc}", flush=True)
                    continue
                seconds = time.perf_counter() - start
                est = tokens * defaults.seconds_per_token(fname, kind)
                rows.append((name, fname, texts, tokens, est, seconds))
                print(f"{name} × {fname}: {seconds:.1f} s (plan {est:.1f} s)", flush=True)
    total = sum(r[5] for r in rows)
    lines = [
        f"# Feature time per (dataset, featurizer) set, cold ({dt.date.today():%Y-%m-%d})",
        "",
        f"`python benchmarks/feature_sets.py` on spec `{spec.name}` "
        f"({', '.join(spec.datasets)}); {platform.machine()}, {os.cpu_count()} cores, measured "
        "while other jobs shared the 2 cores. Plan: the cost model's default rates (a first run "
        "on a machine). The first set of each featurizer includes loading it.",
        "",
        "| dataset | featurizer | texts | est. tokens | plan (s) | measured (s) | share | "
        "measured / plan |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, fname, texts, tokens, est, seconds in sorted(rows, key=lambda r: -r[5]):
        lines.append(
            f"| {name} | {fname} | {texts} | {tokens} | {est:.0f} | {seconds:.1f} | "
            f"{seconds / max(total, 1e-9):.0%} | {seconds / max(est, 1e-9):.2f} |"
        )
    lines += ["", f"All sets: {total:.0f} s measured."]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
