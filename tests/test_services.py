"""CI cannot pass the PostgreSQL and browser tests by skipping them (tests/services.py)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

from tests.services import REQUIRE_ENV, require_module, unavailable


def test_a_missing_service_skips_on_a_developer_machine(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server here"):
        unavailable("no server here")
    with pytest.raises(pytest.skip.Exception, match="pip install nothing"):
        require_module("littledata_no_such_module", "pip install nothing")


def test_a_missing_service_fails_under_ci(monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="no server here"):
        unavailable("no server here")
    with pytest.raises(pytest.fail.Exception, match="littledata_no_such_module"):
        require_module("littledata_no_such_module", "pip install nothing")


def test_ci_installs_the_services_and_requires_their_tests():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"apt-get install .*\bpostgresql\b.*\bchromium\b", ci)
    # required right after the packages are installed (in the same root-only block)
    install = re.search(r"apt-get install[^\n]*\n((?:  [^\n]*\n)*?)fi\n", ci)
    assert install and f"  export {REQUIRE_ENV}=1" in install.group(1).splitlines()
