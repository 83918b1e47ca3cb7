"""Fetch a registered dataset's raw files into the data home, verifying every byte.

Files land in ``data_home()/datasets/<spec.folder>/<filename>``, the same layout as a mirror folder
such as ``../shared/datasets``. Each file comes from one of two sources:

- upstream: ``https://raw.githubusercontent.com/<repo>/<commit>/<path>`` (the base address can be
  changed with ``$LITTLEDATA_UPSTREAM_URL``, e.g. to point tests at a local server);
- a mirror: a local folder or a base URL laid out like ``<mirror>/<folder>/<filename>``, given as
  ``mirror=`` / ``--mirror`` or ``$LITTLEDATA_MIRROR``. When a mirror is set, upstream is not tried.

Every file is streamed into a temporary file in its target folder while its sha256 is computed; it
is renamed into place only when the checksum matches the one the registry pins, so a crash, a broken
connection or a tampered file never leaves a half-written or wrong file behind. The writer holds a
lock on its temporary file; a process that was killed (``kill -9``, SIGTERM, power loss) cannot
remove its own, so the next fetch of that file removes every unlocked one it finds. A small JSON
sidecar (``.<filename>.verified.json``: size, mtime, sha256) records each verification, so later
runs skip a file without hashing it again as long as its size and modification time are unchanged.
That record is a shortcut, not a proof: a file edited in place with its size and modification time
kept would still be trusted, so ``download(..., verify=True)`` (``littledata download --verify``)
hashes every stored file again and fetches any that no longer matches.

Examples
--------
>>> from littledata.datasets.download import download, ensure_downloaded
>>> download(["sst2", "trec"], mirror="/work/shared/datasets")  # doctest: +SKIP
>>> folder = ensure_downloaded("sst2")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote, unquote, urlparse

from littledata import config, io, progress
from littledata.datasets.base import DatasetSpec, RemoteFile
from littledata.errors import ChecksumError, DownloadError

logger = logging.getLogger(__name__)

UPSTREAM_ENV = "LITTLEDATA_UPSTREAM_URL"
"""Environment variable that replaces the upstream base address (``https://raw.githubusercontent.com``)."""

DEFAULT_UPSTREAM = "https://raw.githubusercontent.com"

CHUNK_SIZE = 1 << 16
CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 60.0
RETRY_BACKOFF_S = 1.0
"""Seconds to wait before the first retry of a failed transfer (doubled for each further retry)."""

_MIRROR_HINT = (
    "If this machine has no internet access, take the files from a mirror instead: "
    "`littledata download NAME --mirror DIR_OR_URL` (or set $LITTLEDATA_MIRROR), where the mirror "
    "is laid out like <mirror>/<dataset folder>/<file>."
)


@dataclass(frozen=True)
class FetchResult:
    """What :func:`download` did with one file.

    Attributes
    ----------
    folder: the dataset folder (``spec.folder``).
    filename: the file's name inside that folder.
    path: where the verified file now lies.
    status: ``"present"`` (already there and verified, nothing fetched) or ``"fetched"``.
    source: the URL or mirror path it was fetched from (empty when ``"present"``).
    nbytes: the file's size in bytes.
    """

    folder: str
    filename: str
    path: Path
    status: Literal["present", "fetched"]
    source: str
    nbytes: int


def datasets_root() -> Path:
    """Return ``data_home()/datasets`` (created if missing).

    Raises :class:`ConfigError` when the data home cannot be used (a file, or not writable).
    """
    return config.subdir("datasets")


def dataset_dir(spec: DatasetSpec) -> Path:
    """Return the folder that holds ``spec``'s files in the data home (not created)."""
    return datasets_root() / spec.folder


def upstream_base() -> str:
    """Return the upstream base address (``$LITTLEDATA_UPSTREAM_URL`` or raw.githubusercontent)."""
    return (os.environ.get(UPSTREAM_ENV, "").strip() or DEFAULT_UPSTREAM).rstrip("/")


def upstream_url(remote: RemoteFile) -> str:
    """Return the address of ``remote``'s bytes upstream (honours ``$LITTLEDATA_UPSTREAM_URL``).

    Raises :class:`DownloadError` for a file that only a mirror can provide (a ``git archive`` of
    an upstream folder, see :attr:`RemoteFile.is_archive`).
    """
    if remote.is_archive:
        folder = remote.path.split(" (", 1)[0]
        raise DownloadError(
            f"{remote.filename} is a git archive of the folder {folder} in "
            f"{remote.repo}@{remote.commit[:12]}; upstream serves no single file with these bytes "
            f"(sha256 {remote.sha256}). Download it from a mirror instead: --mirror DIR_OR_URL "
            f"(or $LITTLEDATA_MIRROR) naming a folder laid out like <mirror>/<dataset>/<file>."
        )
    base = upstream_base()
    if base == DEFAULT_UPSTREAM:
        return remote.url
    return f"{base}/{remote.repo}/{remote.commit}/{quote(remote.path, safe='/')}"


def is_url(location: str | os.PathLike[str]) -> bool:
    """Return whether a mirror location is an http(s) base URL rather than a local folder."""
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


def _mirror_folder(mirror: str | os.PathLike[str]) -> Path:
    text = os.fspath(mirror)
    if text.lower().startswith("file://"):
        return Path(unquote(urlparse(text).path))
    return Path(text).expanduser()


def sidecar_path(path: Path) -> Path:
    """Return the verification record that sits next to a downloaded file."""
    return path.with_name(f".{path.name}.verified.json")


def _record_verified(path: Path, sha256: str, source: str) -> None:
    st = path.stat()
    io.atomic_write_json(
        sidecar_path(path),
        {
            "file": path.name,
            "sha256": sha256,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "source": source,
            "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _trusted_record(path: Path, remote: RemoteFile) -> bool:
    """True when the sidecar vouches for ``path`` as it is now (same size, mtime and sha256)."""
    try:
        record = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == remote.sha256
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )


def is_verified(
    path: Path, remote: RemoteFile, *, rehash: bool = True, trust_record: bool = True
) -> bool:
    """Return whether ``path`` holds exactly ``remote``'s bytes.

    A file whose sidecar record still matches its size and mtime is trusted without hashing
    (unless ``trust_record=False``). Otherwise (and only when ``rehash``) the file is hashed once;
    when it matches, a fresh record is written.
    """
    if not path.is_file():
        return False
    if trust_record and _trusted_record(path, remote):
        return True
    if not rehash or path.stat().st_size != remote.size:
        return False
    if io.sha256_file(path) != remote.sha256:
        return False
    _record_verified(path, remote.sha256, source="existing file")
    return True


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def _partial_file(target: Path) -> Iterator[BinaryIO]:
    """Open a locked temporary file beside ``target``; on success fsync it and rename it into place.

    Like :func:`littledata.io.atomic_open`, but the temporary file stays locked (``flock``) from its
    creation until after the rename, so :func:`remove_abandoned_partials` can tell a live download
    from one whose process was killed. On any exception the temporary file is removed.
    """
    with io.locked_temp_file(target.parent, f".{target.name}.", ".tmp") as (fd, tmp):
        try:
            with os.fdopen(fd, "wb", closefd=False) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # before the lock is released
        except BaseException:
            _remove(tmp)
            raise


def remove_abandoned_partials(target: Path) -> list[Path]:
    """Remove the temporary files that interrupted downloads of ``target`` left beside it.

    A download killed before it could clean up (``kill -9``, SIGTERM, a crash) leaves its hidden
    ``.<filename>.<random>.tmp``. Files a running download still holds (locked) are kept.

    Returns the paths removed.
    """
    removed = io.remove_abandoned_temps(target)
    for path in removed:
        logger.info("Removed %s, left by an interrupted download", path)
    return removed


def _write_verified(chunks: Iterable[bytes], target: Path, remote: RemoteFile, source: str) -> int:
    """Stream ``chunks`` into ``target`` atomically; refuse them unless their sha256 matches.

    Returns the number of bytes written. On a checksum mismatch nothing is kept and a
    :class:`ChecksumError` names the file and both checksums; on any other failure (a broken
    connection) the temporary file is removed and the error propagates.
    """
    digest = hashlib.sha256()
    nbytes = 0
    desc = f"{target.parent.name}/{target.name}"
    with (
        progress.bar(
            total=remote.size or None,
            desc=desc,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            leave=False,
        ) as pbar,
        _partial_file(target) as fh,
    ):
        for chunk in chunks:
            fh.write(chunk)
            digest.update(chunk)
            nbytes += len(chunk)
            pbar.update(len(chunk))
        actual = digest.hexdigest()
        if actual != remote.sha256:
            # Raising inside _partial_file removes the temporary file: the bytes are not kept.
            size_note = (
                f" It has {nbytes} bytes where {remote.size} were expected, so it is truncated or "
                "altered."
                if nbytes != remote.size
                else ""
            )
            raise ChecksumError(
                f"Refused {desc} from {source}: its sha256 does not match the registry.\n"
                f"  expected sha256: {remote.sha256}\n"
                f"  actual sha256:   {actual}\n"
                f"The file was deleted, not kept.{size_note} If it came from a mirror, the mirror "
                "holds a different or damaged copy: replace it, or download from upstream."
            )
    return nbytes


def _read_local(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            yield chunk


def _fetch_local(mirror: Path, folder: str, remote: RemoteFile, target: Path) -> str:
    if not mirror.is_dir():
        raise DownloadError(
            f"The mirror folder {mirror} does not exist (or is not a folder). Pass a folder laid "
            "out like <mirror>/<dataset folder>/<file> (e.g. ../shared/datasets), or a base URL."
        )
    source = mirror / folder / remote.filename
    if not source.is_file():
        raise DownloadError(
            f"The mirror {mirror} lacks {folder}/{remote.filename} (looked for {source}). A mirror "
            "must hold every file of the dataset, laid out like <mirror>/<dataset folder>/<file>; "
            "copy the missing file there, or drop --mirror to download from upstream."
        )
    try:
        _write_verified(_read_local(source), target, remote, str(source))
    except ChecksumError:
        raise
    except OSError as exc:
        raise DownloadError(f"Could not copy {source} to {target}: {exc}") from exc
    return str(source)


def _fetch_url(url: str, remote: RemoteFile, target: Path, *, retries: int, hint: str) -> str:
    import httpx

    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    headers = {"User-Agent": "littledata (dataset download)"}
    attempts = max(0, retries) + 1
    last: str = ""
    tried = 0
    with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client:
        for attempt in range(1, attempts + 1):
            tried = attempt
            if attempt > 1:
                wait = RETRY_BACKOFF_S * 2 ** (attempt - 2)
                logger.warning("Retrying %s in %.1f s (%s)", url, wait, last)
                time.sleep(wait)
            received = 0
            try:
                with client.stream("GET", url) as response:
                    if response.status_code >= 400:
                        last = f"HTTP {response.status_code} {response.reason_phrase}"
                        if response.status_code in (408, 429) or response.status_code >= 500:
                            continue
                        break

                    def counted(resp: httpx.Response = response) -> Iterator[bytes]:
                        nonlocal received
                        for chunk in resp.iter_bytes(chunk_size=CHUNK_SIZE):
                            received += len(chunk)
                            yield chunk

                    _write_verified(counted(), target, remote, url)
                    return url
            except httpx.TimeoutException as exc:
                last = f"timed out after {received} of {remote.size} bytes ({type(exc).__name__})"
            except httpx.TransportError as exc:
                if received:
                    last = (
                        f"the connection broke off after {received} of {remote.size} bytes "
                        f"({exc or type(exc).__name__})"
                    )
                else:
                    last = f"network error: {exc or type(exc).__name__}"
            except httpx.HTTPError as exc:
                last = f"HTTP error: {exc or type(exc).__name__}"
    tries = f" (tried {tried} times)" if tried > 1 else ""
    raise DownloadError(
        f"Could not download {target.parent.name}/{target.name} from {url}: {last}{tries}. "
        f"Nothing was kept. {hint}"
    )


def fetch_file(
    folder: str,
    remote: RemoteFile,
    *,
    mirror: str | os.PathLike[str] | None = None,
    force: bool = False,
    retries: int = 2,
    verify: bool = False,
) -> FetchResult:
    """Make ``data_home()/datasets/<folder>/<remote.filename>`` hold ``remote``'s verified bytes.

    Parameters
    ----------
    folder: the dataset folder (``spec.folder``).
    remote: the pinned upstream file.
    mirror: a local folder or http(s) base URL laid out like ``<mirror>/<folder>/<filename>``;
        ``None`` downloads from upstream.
    force: fetch again even when a verified copy is present.
    retries: how many times to retry a transfer that failed on the network (not a checksum error).
    verify: hash a present copy again even when its verification record vouches for it (a file
        edited with its size and modification time kept); fetch it again when it differs.

    Returns
    -------
    FetchResult
    """
    target = datasets_root() / folder / remote.filename
    remove_abandoned_partials(target)
    if not force and target.exists():
        if is_verified(target, remote, trust_record=not verify):
            logger.debug("%s/%s is present and verified", folder, remote.filename)
            return FetchResult(folder, remote.filename, target, "present", "", remote.size)
        logger.warning(
            "%s/%s is present but does not match its sha256; fetching it again",
            folder,
            remote.filename,
        )
        _remove(target)
        _remove(sidecar_path(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    if mirror is None:
        url = upstream_url(remote)
        source = _fetch_url(url, remote, target, retries=retries, hint=_MIRROR_HINT)
    elif is_url(mirror):
        base = os.fspath(mirror).rstrip("/")
        url = f"{base}/{quote(folder)}/{quote(remote.filename)}"
        hint = (
            f"Check that the mirror {base} is reachable and laid out like "
            "<mirror>/<dataset folder>/<file>, or drop --mirror to download from upstream."
        )
        source = _fetch_url(url, remote, target, retries=retries, hint=hint)
    else:
        source = _fetch_local(_mirror_folder(mirror), folder, remote, target)
    _record_verified(target, remote.sha256, source)
    logger.info("Fetched %s/%s from %s", folder, remote.filename, source)
    return FetchResult(folder, remote.filename, target, "fetched", source, remote.size)


def _resolve(names: str | DatasetSpec | Iterable[str | DatasetSpec] | None) -> list[DatasetSpec]:
    from littledata.datasets.registry import get_spec, list_specs

    if names is None:
        return list_specs()
    if isinstance(names, (str, DatasetSpec)):
        names = [names]
    return [n if isinstance(n, DatasetSpec) else get_spec(n) for n in names]


def download(
    names: str | DatasetSpec | Iterable[str | DatasetSpec] | None,
    mirror: str | os.PathLike[str] | None = None,
    force: bool = False,
    *,
    retries: int = 2,
    verify: bool = False,
) -> list[FetchResult]:
    """Fetch the files of the named datasets into the data home, verifying each sha256.

    Parameters
    ----------
    names: registered dataset names (or specs); ``None`` means every registered dataset. All names
        are checked before anything is fetched, so a typo fails fast with suggestions.
    mirror: a local folder or http(s) base URL laid out like ``<mirror>/<folder>/<filename>``
        (e.g. ``../shared/datasets``). Defaults to ``$LITTLEDATA_MIRROR``; without one (or with
        ``mirror=""``), files come from upstream (``$LITTLEDATA_UPSTREAM_URL`` or
        raw.githubusercontent.com).
    force: fetch every file again even when a verified copy is present.
    retries: network retries per file (a checksum mismatch is never retried).
    verify: hash every file already present again, instead of trusting its verification record
        (size and modification time unchanged); a file that no longer matches is fetched again.

    Returns
    -------
    list[FetchResult]
        One entry per distinct file (datasets sharing a folder share files), in spec order (from
        upstream, files that only a mirror can provide are tried last).

    Raises
    ------
    UnknownNameError: a name is not registered.
    DownloadError: a file could not be fetched (network, HTTP status, a mirror lacking a file).
    ChecksumError: a fetched file's sha256 differs from the pinned one (the file is not kept).

    Examples
    --------
    >>> results = download("sst2", mirror="../shared/datasets")  # doctest: +SKIP
    >>> [r.status for r in results]  # doctest: +SKIP
    ['fetched', 'fetched', 'fetched']
    """
    specs = _resolve(names)
    if mirror is None:
        mirror = config.default_mirror()
    elif not os.fspath(mirror).strip():
        mirror = None  # an empty mirror means upstream, even when $LITTLEDATA_MIRROR is set
    todo: dict[tuple[str, str], RemoteFile] = {}
    for spec in specs:
        for remote in spec.files:
            todo.setdefault((spec.folder, remote.filename), remote)
    if mirror is None:
        # Files only a mirror can provide fail from upstream: fetch every other file first, so
        # `download --all` gets all it can before it stops with that error.
        todo = dict(sorted(todo.items(), key=lambda item: item[1].is_archive))
    # A copy from a local mirror folder is quick: no bars for it (nor for files already here).
    local = mirror is not None and not is_url(mirror)
    present = not force and all(
        is_verified(datasets_root() / folder / name, remote, rehash=False)
        for (folder, name), remote in todo.items()
    )
    quiet = progress.show_progress(False) if local or present else contextlib.nullcontext()
    with quiet:
        return [
            fetch_file(folder, remote, mirror=mirror, force=force, retries=retries, verify=verify)
            for (folder, _), remote in progress.track(
                todo.items(), total=len(todo), desc="files", unit="file"
            )
        ]


def ensure_downloaded(
    spec: str | DatasetSpec, mirror: str | os.PathLike[str] | None = None
) -> Path:
    """Return the data-home folder of ``spec``, fetching and verifying any missing file first.

    Files already verified are not fetched (nor hashed) again. ``mirror`` defaults to
    ``$LITTLEDATA_MIRROR``.
    """
    (resolved,) = _resolve(spec)
    download([resolved], mirror=mirror)
    return dataset_dir(resolved)


__all__ = [
    "DEFAULT_UPSTREAM",
    "UPSTREAM_ENV",
    "FetchResult",
    "dataset_dir",
    "datasets_root",
    "download",
    "ensure_downloaded",
    "fetch_file",
    "is_verified",
    "remove_abandoned_partials",
    "upstream_url",
]
