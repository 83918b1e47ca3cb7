"""Download with verification: local and URL mirrors, upstream over HTTP (a local server on
127.0.0.1 laid out like raw.githubusercontent.com), tampered and truncated files, skips."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from littledata import io
from littledata.datasets import download as dl
from littledata.datasets.base import DatasetSpec, RemoteFile, Split, Task
from littledata.datasets.registry import DATASETS
from littledata.errors import ChecksumError, DownloadError, UnknownNameError

REPO = "acme/little-data"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FOLDER = "fake_dl"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated, empty data home."""
    path = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(path))
    return path


def _parse(files: dict[str, Path]) -> dict[str, Split]:
    out = {}
    for split in ("train", "test"):
        rows = [
            line.split("\t")
            for line in files[f"data_{split}.tsv"].read_text("utf-8").splitlines()
            if line
        ]
        out[split] = Split(
            texts=[t for t, _ in rows], labels=np.array([int(y) for _, y in rows], dtype=np.int64)
        )
    return out


@dataclass
class Fake:
    spec: DatasetSpec
    contents: dict[str, bytes]  # filename -> bytes
    mirror: Path  # a local mirror folder (<mirror>/<folder>/<filename>)
    upstream: Path  # a tree laid out like raw.githubusercontent.com (<repo>/<commit>/<path>)


def _content(split: str, n: int) -> bytes:
    rng = np.random.default_rng(len(split))
    lines = [f"{split} example {i} {'word ' * int(rng.integers(1, 40))}\t{i % 2}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[Fake]:
    """A registered spec of two files (~200 KB and ~20 KB), with a mirror and an upstream tree."""
    contents = {"data_train.tsv": _content("train", 1500), "data_test.tsv": _content("test", 150)}
    mirror = tmp_path / "mirror"
    upstream = tmp_path / "upstream"
    files = []
    for filename, data in contents.items():
        path = "data/" + filename.removeprefix("data_")
        files.append(
            RemoteFile(
                repo=REPO,
                path=path,
                commit=COMMIT,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                filename=filename,
            )
        )
        (mirror / FOLDER).mkdir(parents=True, exist_ok=True)
        (mirror / FOLDER / filename).write_bytes(data)
        target = upstream / REPO / COMMIT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    spec = DatasetSpec(
        name="fake-dl",
        folder=FOLDER,
        task=Task.SINGLE_LABEL,
        description="A fake dataset for download tests.",
        license="CC0",
        files=tuple(files),
        label_names=("even", "odd"),
        splits={"train": 1500, "test": 150},
        parser=_parse,
    )
    DATASETS.add(spec.name, spec)
    try:
        yield Fake(spec, contents, mirror, upstream)
    finally:
        DATASETS.remove(spec.name)


class _Server:
    """A threaded HTTP server on 127.0.0.1 serving ``root``; counts hits, can tamper or truncate."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits: Counter[str] = Counter()
        self.truncate: set[str] = set()  # paths answered with a full Content-Length, half a body
        self.slow: set[str] = set()  # paths sent in 1 KB pieces, 50 ms apart
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)  # type: ignore[arg-type]

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                if self.path in server.truncate:
                    data = (server.root / self.path.lstrip("/")).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if self.path in server.slow:
                    data = (server.root / self.path.lstrip("/")).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    try:
                        for i in range(0, len(data), 1024):
                            self.wfile.write(data[i : i + 1024])
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:  # the client went away
                        pass
                    self.close_connection = True
                    return
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, fake: Fake) -> Iterator[_Server]:
    """Serves ``/<repo>/<commit>/<path>`` (upstream layout) and ``/mirror/<folder>/<file>``."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "acme").symlink_to(fake.upstream / "acme", target_is_directory=True)
    (root / "mirror").symlink_to(fake.mirror, target_is_directory=True)
    with _Server(root) as srv:
        yield srv


@pytest.fixture
def upstream(server: _Server, monkeypatch: pytest.MonkeyPatch) -> _Server:
    """Point upstream at the local server, with no mirror and no retry delay."""
    monkeypatch.setenv(dl.UPSTREAM_ENV, server.url)
    monkeypatch.delenv("LITTLEDATA_MIRROR", raising=False)
    monkeypatch.setattr(dl, "RETRY_BACKOFF_S", 0.0)
    return server


def _upstream_path(remote: RemoteFile) -> str:
    return f"/{remote.repo}/{remote.commit}/{remote.path}"


def _leftovers(home: Path) -> list[str]:
    folder = home / "datasets" / FOLDER
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------------


def test_upstream_url_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = RemoteFile(REPO, "a/b c.txt", COMMIT, "0" * 64, 1, "a_b c.txt")
    monkeypatch.delenv(dl.UPSTREAM_ENV, raising=False)
    assert dl.upstream_url(remote) == remote.url
    assert remote.url.startswith("https://raw.githubusercontent.com/acme/little-data/0123")
    monkeypatch.setenv(dl.UPSTREAM_ENV, "http://127.0.0.1:9/raw/")
    assert dl.upstream_url(remote) == f"http://127.0.0.1:9/raw/{REPO}/{COMMIT}/a/b%20c.txt"


def test_local_mirror_fetches_verifies_and_records(fake: Fake, home: Path) -> None:
    results = dl.download("fake-dl", mirror=fake.mirror)
    assert [r.status for r in results] == ["fetched", "fetched"]
    for r in results:
        assert r.path == home / "datasets" / FOLDER / r.filename
        assert r.path.read_bytes() == fake.contents[r.filename]
        assert dl.sidecar_path(r.path).is_file()
        assert r.source == str(fake.mirror / FOLDER / r.filename)
    # Only the two files and their verification records; no temporary files.
    assert _leftovers(home) == sorted(
        [*fake.contents, *(f".{f}.verified.json" for f in fake.contents)]
    )
    again = dl.download(["fake-dl"], mirror=fake.mirror)
    assert [r.status for r in again] == ["present", "present"]


def test_mirror_from_env_and_file_url(
    fake: Fake, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITTLEDATA_MIRROR", str(fake.mirror))
    assert {r.status for r in dl.download("fake-dl")} == {"fetched"}
    results = dl.download("fake-dl", mirror=fake.mirror.as_uri(), force=True)
    assert {r.status for r in results} == {"fetched"}


def test_verified_file_is_not_hashed_again(
    fake: Fake, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dl.download("fake-dl", mirror=fake.mirror)
    hashed: list[str] = []
    real = dl.io.sha256_file

    def counting(path: object, *args: object, **kwargs: object) -> str:
        hashed.append(Path(str(path)).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dl.io, "sha256_file", counting)
    assert {r.status for r in dl.download("fake-dl", mirror=fake.mirror)} == {"present"}
    assert hashed == []  # trusted from the sidecar: same size and mtime
    # A changed mtime makes the record stale: the file is hashed once, then trusted again.
    target = home / "datasets" / FOLDER / "data_test.tsv"
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert {r.status for r in dl.download("fake-dl", mirror=fake.mirror)} == {"present"}
    assert hashed == ["data_test.tsv"]
    dl.download("fake-dl", mirror=fake.mirror)
    assert hashed == ["data_test.tsv"]


def test_verify_rehashes_a_file_edited_with_its_size_and_mtime_kept(fake: Fake, home: Path) -> None:
    dl.download("fake-dl", mirror=fake.mirror)
    target = home / "datasets" / FOLDER / "data_train.tsv"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[10:14] = b"EDIT"  # same size
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    # the verification record vouches for size and mtime, so a plain download trusts the edit
    assert {r.status for r in dl.download("fake-dl", mirror=fake.mirror)} == {"present"}
    assert target.read_bytes() == bytes(data)
    again = dl.download("fake-dl", mirror=fake.mirror, verify=True)
    results = {r.filename: r.status for r in again}
    assert results == {"data_train.tsv": "fetched", "data_test.tsv": "present"}
    assert target.read_bytes() == fake.contents["data_train.tsv"]


def test_damaged_local_copy_is_fetched_again(fake: Fake, home: Path) -> None:
    dl.download("fake-dl", mirror=fake.mirror)
    target = home / "datasets" / FOLDER / "data_train.tsv"
    target.write_bytes(b"damaged")
    results = {r.filename: r.status for r in dl.download("fake-dl", mirror=fake.mirror)}
    assert results == {"data_train.tsv": "fetched", "data_test.tsv": "present"}
    assert target.read_bytes() == fake.contents["data_train.tsv"]


def test_force_fetches_again(fake: Fake, home: Path) -> None:
    dl.download("fake-dl", mirror=fake.mirror)
    assert {r.status for r in dl.download("fake-dl", mirror=fake.mirror, force=True)} == {"fetched"}


def test_tampered_mirror_file_is_refused(fake: Fake, home: Path) -> None:
    tampered = fake.mirror / FOLDER / "data_train.tsv"
    data = bytearray(tampered.read_bytes())
    data[100] ^= 0x20  # same size, one byte changed
    tampered.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as info:
        dl.download("fake-dl", mirror=fake.mirror)
    msg = str(info.value)
    expected = hashlib.sha256(fake.contents["data_train.tsv"]).hexdigest()
    actual = hashlib.sha256(bytes(data)).hexdigest()
    assert "fake_dl/data_train.tsv" in msg
    assert expected in msg and actual in msg
    assert "not kept" in msg
    assert "data_train.tsv" not in _leftovers(home)
    assert not [n for n in _leftovers(home) if n.endswith(".tmp")]


def test_mirror_lacking_a_file_names_the_path(fake: Fake, home: Path) -> None:
    (fake.mirror / FOLDER / "data_test.tsv").unlink()
    with pytest.raises(DownloadError) as info:
        dl.download("fake-dl", mirror=fake.mirror)
    msg = str(info.value)
    assert str(fake.mirror / FOLDER / "data_test.tsv") in msg
    assert "lacks fake_dl/data_test.tsv" in msg
    assert "data_test.tsv" not in _leftovers(home)


def test_missing_mirror_folder(fake: Fake, home: Path, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not exist"):
        dl.download("fake-dl", mirror=tmp_path / "nowhere")


def test_unknown_name_fails_before_fetching(fake: Fake, home: Path) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean: fake-dl"):
        dl.download(["fake-dl", "fake-d"], mirror=fake.mirror)
    assert _leftovers(home) == []


def test_upstream_http_download_and_skip(fake: Fake, home: Path, upstream: _Server) -> None:
    results = dl.download("fake-dl")
    assert [r.status for r in results] == ["fetched", "fetched"]
    for r, remote in zip(results, fake.spec.files, strict=True):
        assert r.source == upstream.url + _upstream_path(remote)
        assert r.path.read_bytes() == fake.contents[r.filename]
        assert upstream.hits[_upstream_path(remote)] == 1
    # Second run: verified files are skipped without any request.
    assert {r.status for r in dl.download("fake-dl")} == {"present"}
    assert sum(upstream.hits.values()) == 2


def test_empty_mirror_means_upstream(
    fake: Fake, home: Path, server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(dl.UPSTREAM_ENV, server.url)
    monkeypatch.setenv("LITTLEDATA_MIRROR", str(fake.mirror))
    results = dl.download("fake-dl", mirror="")
    assert {r.source.startswith(server.url + "/acme/") for r in results} == {True}


def test_url_mirror(fake: Fake, home: Path, server: _Server) -> None:
    results = dl.download("fake-dl", mirror=server.url + "/mirror/")
    assert {r.status for r in results} == {"fetched"}
    assert server.hits["/mirror/fake_dl/data_train.tsv"] == 1
    assert (home / "datasets" / FOLDER / "data_test.tsv").read_bytes() == fake.contents[
        "data_test.tsv"
    ]


def test_tampered_upstream_file_is_refused(fake: Fake, home: Path, upstream: _Server) -> None:
    remote = fake.spec.files[1]
    served = fake.upstream / REPO / COMMIT / remote.path
    served.write_bytes(b"evil" + fake.contents[remote.filename])
    with pytest.raises(ChecksumError) as info:
        dl.download("fake-dl")
    msg = str(info.value)
    assert remote.filename in msg
    assert remote.sha256 in msg
    assert hashlib.sha256(served.read_bytes()).hexdigest() in msg
    assert remote.filename not in _leftovers(home)
    assert upstream.hits[_upstream_path(remote)] == 1  # a checksum error is not retried


def test_download_breaking_halfway_leaves_nothing(
    fake: Fake, home: Path, upstream: _Server
) -> None:
    remote = fake.spec.files[0]
    upstream.truncate.add(_upstream_path(remote))
    with pytest.raises(DownloadError) as info:
        dl.download("fake-dl", retries=1)
    msg = str(info.value)
    assert upstream.url + _upstream_path(remote) in msg
    assert "broke off" in msg and f"of {remote.size} bytes" in msg
    assert "Nothing was kept" in msg and "--mirror" in msg
    assert "(tried 2 times)" in msg
    assert upstream.hits[_upstream_path(remote)] == 2  # one retry
    assert _leftovers(home) == []  # no partial file, no temporary file, no record


@pytest.mark.integration
def test_download_killed_halfway_is_cleaned_up_by_the_next_run(
    fake: Fake, home: Path, server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed mid-transfer (kill -9) cannot remove its temporary file; next run does."""
    remote = fake.spec.files[0]
    mirror = server.url + "/mirror"
    server.slow.add(f"/mirror/{FOLDER}/{remote.filename}")
    code = (
        "import sys\n"
        "from littledata.datasets.base import RemoteFile\n"
        "from littledata.datasets.download import fetch_file\n"
        f"remote = RemoteFile(*{tuple(vars(remote).values())!r})\n"
        f"fetch_file({FOLDER!r}, remote, mirror={mirror!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while not any(n.endswith(".tmp") for n in _leftovers(home)):
            assert proc.poll() is None and time.monotonic() < deadline, "no transfer started"
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    (partial,) = [n for n in _leftovers(home) if n.endswith(".tmp")]
    assert partial.startswith(f".{remote.filename}.")
    assert remote.filename not in _leftovers(home)  # never a half-written file under its name
    monkeypatch.setattr(io, "TEMP_GRACE_S", 0.0)
    server.slow.clear()
    assert {r.status for r in dl.download("fake-dl", mirror=mirror)} == {"fetched"}
    assert _leftovers(home) == sorted(
        [*fake.contents, *(f".{f}.verified.json" for f in fake.contents)]
    )


def test_a_running_downloads_temporary_file_is_kept(fake: Fake, home: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    folder = home / "datasets" / FOLDER
    folder.mkdir(parents=True)
    target = folder / "data_train.tsv"
    dead, alive, young = (
        folder / f".data_train.tsv.{k}.tmp" for k in ("dead1234", "live1234", "new12345")
    )
    other = folder / ".data_train.tsv.bak.old12345.tmp"  # another file's temporary file
    old = time.time() - 3600
    for path in (dead, alive, young, other):
        path.write_bytes(b"partial")
        if path is not young:
            os.utime(path, (old, old))
    with open(alive, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # what a running download holds
        assert dl.remove_abandoned_partials(target) == [dead]
    assert alive.exists() and young.exists() and other.exists() and not dead.exists()


def test_http_404_names_url_and_suggests_mirror(fake: Fake, home: Path, upstream: _Server) -> None:
    remote = fake.spec.files[0]
    (fake.upstream / REPO / COMMIT / remote.path).unlink()
    with pytest.raises(DownloadError) as info:
        dl.download("fake-dl")
    msg = str(info.value)
    assert "HTTP 404" in msg and "tried" not in msg
    assert upstream.url + _upstream_path(remote) in msg
    assert "--mirror" in msg
    assert upstream.hits[_upstream_path(remote)] == 1  # a 404 is not retried


def test_network_failure_is_a_clear_error(
    fake: Fake, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(dl.UPSTREAM_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.delenv("LITTLEDATA_MIRROR", raising=False)
    with pytest.raises(DownloadError) as info:
        dl.download("fake-dl", retries=0)
    msg = str(info.value)
    assert f"http://127.0.0.1:{port}/{REPO}/{COMMIT}/" in msg
    assert "network error" in msg and "--mirror" in msg
    assert _leftovers(home) == []


def test_files_only_a_mirror_has_come_last_from_upstream(
    fake: Fake, home: Path, upstream: _Server
) -> None:
    """`download --all` from upstream fetches every other file before the archive's error."""
    archive = RemoteFile(
        REPO, "data/ (git archive of subtree: x/)", COMMIT, "0" * 64, 9, "x.tar.gz"
    )
    spec = DatasetSpec(**{**vars(fake.spec), "name": "fake-archive", "files": (archive,)})
    DATASETS.add(spec.name, spec)
    try:
        with pytest.raises(DownloadError, match=r"x\.tar\.gz is a git archive"):
            dl.download(["fake-archive", "fake-dl"])
    finally:
        DATASETS.remove(spec.name)
    assert set(fake.contents) <= set(_leftovers(home))


def test_progress_is_shown_only_when_turned_on(
    fake: Fake, home: Path, upstream: _Server, capsys: pytest.CaptureFixture[str]
) -> None:
    from littledata import progress

    dl.download("fake-dl")
    assert capsys.readouterr().err == ""  # library code is silent by default
    with progress.show_progress(plain=False):
        dl.download("fake-dl", force=True)
    err = capsys.readouterr().err
    assert "files: 100%" in err and "2/2" in err
    assert f"{FOLDER}/data_train.tsv" in err  # the per-file byte bar
    with progress.show_progress(plain=False):
        dl.download("fake-dl")  # verified already: nothing to show
        dl.download("fake-dl", mirror=fake.mirror, force=True)  # a local copy: no bars
    assert capsys.readouterr().err == ""
    with progress.show_progress(plain=True):  # not a terminal: plain lines
        dl.download("fake-dl", force=True)
    err = capsys.readouterr().err
    assert "files: 2/2 file (100%)" in err and "\r" not in err and "\x1b" not in err


def test_ensure_downloaded_and_load(fake: Fake, home: Path, upstream: _Server) -> None:
    from littledata import load_dataset

    folder = dl.ensure_downloaded("fake-dl")
    assert folder == home / "datasets" / FOLDER
    ds = load_dataset("fake-dl")
    assert ds.task is Task.SINGLE_LABEL
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 1500, "test": 150}
    assert sum(upstream.hits.values()) == 2  # loading again does not fetch again


# --------------------------------------------------------------------------------------------------
# Real specs from the shared mirror


def test_real_spec_from_shared_mirror(shared_datasets: Path, home: Path) -> None:
    from littledata.datasets.registry import get_spec

    spec = get_spec("sst2")
    results = dl.download("sst2", mirror=shared_datasets)
    assert {r.filename for r in results} == {f.filename for f in spec.files}
    for r in results:
        assert r.status == "fetched"
        assert dl.io.sha256_file(r.path) == next(
            f.sha256 for f in spec.files if f.filename == r.filename
        )


def test_real_spec_over_http(
    shared_datasets: Path,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real spec fetched over HTTP from a tree laid out like raw.githubusercontent.com."""
    from littledata.datasets.registry import get_spec

    spec = get_spec("trec")
    root = tmp_path / "raw"
    for f in spec.files:
        target = root / f.repo / f.commit / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shared_datasets / spec.folder / f.filename)
    with _Server(root) as srv:
        monkeypatch.setenv(dl.UPSTREAM_ENV, srv.url)
        monkeypatch.delenv("LITTLEDATA_MIRROR", raising=False)
        results = dl.download("trec")
        assert {r.status for r in results} == {"fetched"}
        assert sum(srv.hits.values()) == len(spec.files)


def test_archive_file_needs_a_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """newsgroups20's tar is a git archive of an upstream folder: upstream has no such file."""
    from littledata.datasets.download import upstream_url
    from littledata.datasets.registry import get_spec

    (remote,) = get_spec("newsgroups20").files
    assert remote.is_archive
    with pytest.raises(DownloadError, match=r"git archive of the folder data/20ng/.*--mirror"):
        upstream_url(remote)
    # Every other registered file has a real upstream address.
    from littledata.datasets.registry import list_specs

    others = [f for s in list_specs() for f in s.files if f is not remote]
    assert others and not any(f.is_archive for f in others)
