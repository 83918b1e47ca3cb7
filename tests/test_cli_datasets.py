"""The ``datasets list``, ``datasets show`` and ``download`` commands.

Most checks run the real console script in a subprocess: that is the truest check that a user's
mistake ends in a one-line error and exit status 2, never a traceback.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from littledata.cli import app
from littledata.datasets.registry import get_spec, list_specs

# the console script in subprocesses and real datasets: slow, end to end
pytestmark = pytest.mark.integration


def _command() -> list[str]:
    script = Path(sys.executable).with_name("littledata")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from littledata.cli import main; main()"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*_command(), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
    )


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    return home


# --------------------------------------------------------------------------------------------------
# list


def test_list_shows_every_dataset_without_downloading(empty_home: Path) -> None:
    result = run_cli("datasets", "list")
    assert result.returncode == 0, result.stderr
    names = [s.name for s in list_specs()]
    assert names  # the catalog registered itself
    lines = result.stdout.splitlines()
    rows = [n for n in names if any(line.startswith(f"│ {n} ") for line in lines)]
    assert rows == names  # one row per dataset, sorted by name
    assert f"{len(names)} registered datasets" in result.stdout
    assert "single-label" in result.stdout and "sequence-labeling" in result.stdout
    assert "train 6,920 · dev 872 · test 1,821" in result.stdout  # sst2's split sizes
    assert not any((empty_home / "datasets").glob("*/*"))  # nothing was downloaded


def test_list_json() -> None:
    result = CliRunner().invoke(app, ["datasets", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == [s.name for s in list_specs()]
    trec = next(r for r in rows if r["name"] == "trec")
    assert trec["labels"] == 6 and trec["splits"] == {"train": 5452, "test": 500}
    assert trec["task"] == "single-label" and trec["license"]


def test_help_of_every_command() -> None:
    for args in (["--help"], ["datasets", "--help"], ["datasets", "show", "--help"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0
    result = CliRunner().invoke(app, ["download", "--help"])
    assert result.exit_code == 0 and "--mirror" in result.output and "--all" in result.output


# --------------------------------------------------------------------------------------------------
# errors without a traceback


def test_unknown_name_suggests_and_exits_2(tmp_path: Path) -> None:
    for args, close in (
        (["datasets", "show", "sst"], "sst2"),
        (["download", "sst2", "trek"], "trec"),
    ):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2
        _no_traceback(result)
        assert "Error: Unknown dataset" in result.stderr
        assert f"Did you mean: {close}" in result.stderr


def test_download_needs_names_or_all() -> None:
    result = run_cli("download")
    assert result.returncode == 2
    _no_traceback(result)
    assert "--all" in result.stderr
    result = run_cli("download", "trec", "--all")
    assert result.returncode == 2 and "not both" in result.stderr


def test_unusable_data_home_is_a_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file, not a folder")
    env = {"LITTLEDATA_HOME": str(not_a_folder)}
    for args in (["datasets", "list"], ["download", "trec"], ["cache", "ls"], ["results"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        _no_traceback(result)
        flat = " ".join(result.stderr.split())
        assert f"Cannot use {not_a_folder} as littledata's data home" in flat
        assert "$LITTLEDATA_HOME" in flat


def test_error_messages_are_printed_as_plain_text(tmp_path: Path) -> None:
    # a name a user chose may look like rich markup; the error shows it as it is
    result = run_cli("featurize", "trec", "--featurizer", "[/b]", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    _no_traceback(result)
    assert "[/b]" in result.stderr


def _copy_dataset(shared: Path, mirror: Path, folder: str) -> Path:
    target = mirror / folder
    target.mkdir(parents=True)
    for f in get_spec(folder).files:
        shutil.copyfile(shared / folder / f.filename, target / f.filename)
    return target


def test_tampered_mirror_file_is_refused(
    shared_datasets: Path, tmp_path: Path, empty_home: Path
) -> None:
    mirror = tmp_path / "mirror"
    spec = get_spec("trec")
    folder = _copy_dataset(shared_datasets, mirror, "trec")
    remote = spec.files[0]
    tampered = folder / remote.filename
    tampered.write_bytes(tampered.read_bytes().replace(b"?", b"!", 1))
    result = run_cli("download", "trec", "--mirror", str(mirror))
    assert result.returncode == 2
    _no_traceback(result)
    assert f"trec/{remote.filename}" in result.stderr
    assert remote.sha256 in result.stderr
    assert hashlib.sha256(tampered.read_bytes()).hexdigest() in result.stderr
    assert not (empty_home / "datasets" / "trec" / remote.filename).exists()


def test_download_verify_hashes_every_stored_file_again(
    shared_datasets: Path, tmp_path: Path, empty_home: Path
) -> None:
    mirror = tmp_path / "mirror"
    _copy_dataset(shared_datasets, mirror, "trec")
    assert run_cli("download", "trec", "--mirror", str(mirror)).returncode == 0
    stored = empty_home / "datasets" / "trec" / get_spec("trec").files[0].filename
    good = stored.read_bytes()
    st = stored.stat()
    stored.write_bytes(good.replace(b"?", b"!", 1))  # same size
    os.utime(stored, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    trusted = run_cli("download", "trec", "--mirror", str(mirror))
    assert trusted.returncode == 0 and stored.read_bytes() != good  # the record vouched for it
    result = run_cli("download", "trec", "--mirror", str(mirror), "--verify")
    assert result.returncode == 0, result.stderr
    assert "every one hashed again" in result.stdout and "1 fetched" in result.stdout
    assert stored.read_bytes() == good


def test_mirror_lacking_a_file(shared_datasets: Path, tmp_path: Path, empty_home: Path) -> None:
    mirror = tmp_path / "mirror"
    folder = _copy_dataset(shared_datasets, mirror, "trec")
    missing = folder / get_spec("trec").files[-1].filename
    missing.unlink()
    result = run_cli("download", "trec", "--mirror", str(mirror))
    assert result.returncode == 2
    _no_traceback(result)
    assert str(missing) in result.stderr.replace("\n", "")


def test_bad_user_file_and_drop_invalid(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("review,stars\ngood,5\n,1\nbad,\nok,3\n", encoding="utf-8")
    result = run_cli(
        "datasets", "show", str(path), "--text-column", "review", "--label-column", "stars"
    )
    assert result.returncode == 2
    _no_traceback(result)
    flat = " ".join(result.stderr.split())
    # an empty text is an error; a missing label is a row without a label (shown as such below)
    assert "1 of 4 rows cannot be used (1 with an empty text): row 3 " in flat
    assert "--drop-invalid" in flat
    result = run_cli(
        "datasets", "show", str(path), "--text-column", "reviw", "--label-column", "stars"
    )
    assert result.returncode == 2 and "Did you mean 'review'?" in result.stderr
    result = run_cli(
        "datasets",
        "show",
        str(path),
        "--text-column",
        "review",
        "--label-column",
        "stars",
        "--drop-invalid",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "dropped 1 of 4 rows" in result.stderr
    assert "Label distribution" in result.stdout
    assert "train 2 · unlabeled 1" in result.stdout and "(no label)" in result.stdout


def test_undecodable_user_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.tsv"
    path.write_bytes(b"text\tlabel\ncaf\xe9\tx\n")
    result = run_cli("datasets", "show", str(path))
    assert result.returncode == 2
    _no_traceback(result)
    assert "--encoding" in result.stderr
    result = run_cli("datasets", "show", str(path), "--encoding", "latin-1")
    assert result.returncode == 0 and "café" in result.stdout


# --------------------------------------------------------------------------------------------------
# download and show


def test_download_all_from_shared_mirror(shared_datasets: Path, session_home: Path) -> None:
    """The issue's acceptance check (copies ~70 MB into the session home once)."""
    result = run_cli("download", "--all", "--mirror", str(shared_datasets))
    assert result.returncode == 0, result.stderr
    specs = list_specs()
    files = {(s.folder, f.filename): f for s in specs for f in s.files}
    assert f"{len(files)} files verified" in result.stdout
    for (folder, filename), remote in files.items():
        path = session_home / "datasets" / folder / filename
        assert path.stat().st_size == remote.size
    # A second run finds everything verified and fetches nothing.
    again = run_cli("download", "--all", "--mirror", str(shared_datasets))
    assert again.returncode == 0
    assert f"0 fetched (0.0 MB), {len(files)} already present" in again.stdout


def test_download_over_http_with_the_console_script(
    shared_datasets: Path, tmp_path: Path, empty_home: Path
) -> None:
    """`littledata download` against a local server laid out like raw.githubusercontent.com."""
    spec = get_spec("sst2")
    root = tmp_path / "raw"
    for f in spec.files:
        target = root / f.repo / f.commit / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shared_datasets / spec.folder / f.filename)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        env = {"LITTLEDATA_UPSTREAM_URL": url, "LITTLEDATA_MIRROR": ""}
        result = run_cli("download", "sst2", env=env)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.returncode == 0, result.stderr
    assert f"upstream ({url})" in result.stdout
    assert f"{len(spec.files)} fetched" in result.stdout
    for f in spec.files:
        assert (empty_home / "datasets" / "sst2" / f.filename).stat().st_size == f.size


def test_show_registered_dataset(shared_datasets: Path) -> None:
    result = CliRunner().invoke(
        app, ["datasets", "show", "trec", "--examples", "1"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "task single-label · 6 labels · train 5,452 · test 500" in out
    assert "ABBR" in out and "NUM" in out
    assert "Label distribution" in out and "Text length" in out and "p95" in out
    assert "Examples (split 'train')" in out
    # Same seed, same examples; another seed, others.
    again = CliRunner().invoke(
        app, ["datasets", "show", "trec", "--examples", "1"], env={"COLUMNS": "200"}
    )
    assert again.output == out
    other = CliRunner().invoke(
        app,
        ["datasets", "show", "trec", "--examples", "1", "--seed", "7"],
        env={"COLUMNS": "200"},
    )
    assert other.output != out


def test_show_json_statistics(shared_datasets: Path) -> None:
    result = CliRunner().invoke(app, ["datasets", "show", "sst2", "--json", "--examples", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    sizes = {s["name"]: s["size"] for s in data["splits"]}
    assert sizes == {"train": 6920, "dev": 872, "test": 1821}
    train = data["splits"][0]
    assert sum(train["label_counts"].values()) == 6920
    assert train["words"]["p5"] <= train["words"]["p50"] <= train["words"]["p95"]
    assert train["words"]["p95"] <= train["words"]["max"]
    assert all(len(v) == 2 for v in train["examples"].values())


def test_show_user_file_with_pairs_and_splits(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    rows = [
        {"a": "A man sleeps.", "b": "A person rests.", "y": "yes", "part": "train"},
        {"a": "A dog runs.", "b": "A cat sleeps.", "y": "no", "part": "train"},
        {"a": "Kids play.", "b": "Children play.", "y": "yes", "part": "test"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    args = ["datasets", "show", str(path), "--text-column", "a", "--text-pair-column", "b"]
    args += ["--label-column", "y", "--split-column", "part", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(s["name"], s["size"]) for s in data["splits"]] == [("train", 2), ("test", 1)]
    assert data["splits"][0]["pair_words"]["max"] == 3
    assert data["splits"][1]["examples"] == {"yes": ["Kids play. ||| Children play."]}


def test_show_prints_brackets_in_labels_splits_and_paths_as_they_are(tmp_path: Path) -> None:
    """Labels, split names and paths come from the data: rich must not read them as markup."""
    folder = tmp_path / "[red]exports"
    folder.mkdir()
    path = folder / "mine.csv"
    path.write_text(
        "text,label,split\ngood,[/b],train\nbad,[bold]neg,train\nok,[/b],[dev]\n",
        encoding="utf-8",
    )
    args = ["datasets", "show", str(path), "--split-column", "split"]
    result = run_cli(*args, env={"COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    assert f"Loaded from {path}" in result.stdout
    assert "[bold]neg" in result.stdout and "[/b]" in result.stdout
    assert "[dev] 1" in result.stdout  # the split name in the summary line
    assert "  [/b]: good" in result.stdout  # an example under its label


def test_featurize_of_a_user_file_does_not_warn_that_it_has_no_split_column(
    tmp_path: Path, empty_home: Path
) -> None:
    # featurizing needs no test split: the file is read once, without that warning
    data = tmp_path / "mine.csv"
    data.write_text("text,label\nhello there,a\nbye now,b\nsee you,a\n", encoding="utf-8")
    result = run_cli("featurize", str(data), "-f", "glove50", "-f", "tfidf")
    assert result.returncode == 0, result.stderr
    assert "has no split column" not in result.stderr, result.stderr
    assert "mine.csv/train · glove50: 3 x 50" in result.stdout
