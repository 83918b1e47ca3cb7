"""Shared test fixtures.

Every test runs with ``LITTLEDATA_HOME`` pointing at a temporary folder shared by the session (so
tests never touch a user's cache, and each raw dataset file is copied from the mirror once), and
with ``LITTLEDATA_MIRROR`` pointing at the shared dataset mirror (``../shared/datasets`` beside the
repository, or ``$LITTLEDATA_TEST_MIRROR``). No test reaches the network.

Tests that need the mirror use the ``shared_datasets`` fixture; without a mirror they are skipped,
unless ``LITTLEDATA_REQUIRE_MIRROR=1`` (set by CI) turns the absence into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_mirror() -> Path | None:
    env = os.environ.get("LITTLEDATA_TEST_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "datasets")
    for path in candidates:
        if (path / "sst2" / "SOURCE.tsv").is_file():
            return path.resolve()
    return None


MIRROR = _find_mirror()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that load a pretrained encoder (marked ``model``) or read the real dataset mirror
    (the ``shared_datasets`` fixture) are integration tests too: ``-m "not integration"`` leaves
    them out of the fast run."""
    for item in items:
        if item.get_closest_marker("model") or "shared_datasets" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("littledata-home")


@pytest.fixture(autouse=True)
def _isolated_home(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LITTLEDATA_HOME", str(session_home))
    if MIRROR is not None:
        monkeypatch.setenv("LITTLEDATA_MIRROR", str(MIRROR))
    else:
        monkeypatch.delenv("LITTLEDATA_MIRROR", raising=False)
    yield


@pytest.fixture(autouse=True)
def _progress_off_after() -> Iterator[None]:
    """A command run in-process (``littledata.cli.main``) turns progress on for the rest of the
    thread; turn it off again so that no later test sees bars it did not ask for."""
    yield
    from littledata import progress

    progress.set_enabled(False)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The shared dataset mirror folder (skips, or fails under CI, when it is absent)."""
    if MIRROR is None:
        if os.environ.get("LITTLEDATA_REQUIRE_MIRROR") == "1":
            pytest.fail("the shared dataset mirror ../shared/datasets was not found")
        pytest.skip("no shared dataset mirror (../shared/datasets or $LITTLEDATA_TEST_MIRROR)")
    return MIRROR
