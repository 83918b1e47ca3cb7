"""The labeling page in a real browser (headless Chromium driven by Playwright).

Loads the page served by `littledata label`, labels with the keyboard (1, 2, s, n, u), checks the
database holds exactly what was pressed, and that a text holding ``<script>`` shows as text.
Screenshots go to ``test-artifacts/label_app/`` (or ``$LITTLEDATA_TEST_ARTIFACTS``).
Skipped when Playwright or Chromium is absent (``pip install playwright``; ``apt-get install
chromium``), a failure instead under CI (``LITTLEDATA_REQUIRE_SERVICES=1``, see .ci/run and
tests/services.py).
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from littledata.label_app.store import LabelStore
from tests.label_helpers import free_port, pool, start_server, stop_server, truth
from tests.services import chromium_path, require_module

HOSTILE = '<script>window.__pwned = 1</script><b id="injected">bold?</b> & "quotes"'

pytestmark = pytest.mark.integration


@pytest.fixture
def browser_kit() -> tuple[ModuleType, str]:
    """Playwright's sync API and Chromium's path (skipped, or failed under CI, without them)."""
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    return sync_api, str(chromium_path())


def artifacts() -> Path:
    root = Path(os.environ.get("LITTLEDATA_TEST_ARTIFACTS", "test-artifacts")) / "label_app"
    root.mkdir(parents=True, exist_ok=True)
    return root


def test_keyboard_labeling_undo_and_escaped_text(tmp_path, browser_kit):
    sync_api, chromium = browser_kit
    texts = [HOSTILE, *pool(29)]
    data = tmp_path / "data.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in texts)
    db = f"sqlite:///{tmp_path / 'labels.sqlite'}"
    port = free_port()
    proc = start_server(
        [str(data), "--labels", "pos,neg", "--featurizer", "glove50", "--db", db, "--batch", "2"],
        port,
    )
    shots = artifacts()
    pressed: list[tuple[int, str, str | None]] = []  # (item, kind, label) the database must hold
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox"])  # fmt: skip
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            fetched: list[str] = []  # every request the page makes: none leaves the app
            page.on("request", lambda r: fetched.append(r.url))
            page.goto(f"http://127.0.0.1:{port}/?annotator=tester")
            text = page.locator("#text")
            text.wait_for(state="visible")

            def current() -> int:
                return int(text.get_attribute("data-item-id"))

            def press(key: str) -> None:
                before = current()
                page.keyboard.press(key)
                page.wait_for_function(
                    f"document.getElementById('text').dataset.itemId !== '{before}'"
                )

            keys = ["1", "2", "s", "1", "n", "2", "1", "2"]
            for key in keys:
                item = current()
                if item == 0:  # the hostile text: shown as text, never run or parsed
                    assert text.text_content() == HOSTILE
                    assert page.locator("#injected").count() == 0
                    assert page.evaluate("window.__pwned") is None
                    page.screenshot(path=str(shots / "escaped-text.png"))
                kind = {"s": "skip", "n": "unsure"}.get(key, "label")
                label = {"1": "pos", "2": "neg"}.get(key)
                press(key)
                pressed.append((item, kind, label))
            undone = pressed.pop()  # u: take back the last label; the item comes back
            press("u")
            assert current() == undone[0]
            press("1")
            pressed.append((undone[0], "label", "pos"))
            if 0 not in [p[0] for p in pressed]:  # make sure the hostile text was seen
                page.goto(f"http://127.0.0.1:{port}/?annotator=second")
                text.wait_for(state="visible")
                while current() != 0:
                    page.keyboard.press("s")
                    page.wait_for_timeout(100)
                assert text.text_content() == HOSTILE
                assert page.locator("#injected").count() == 0
                assert page.evaluate("window.__pwned") is None
                page.screenshot(path=str(shots / "escaped-text.png"))
                page.goto(f"http://127.0.0.1:{port}/?annotator=tester")
                text.wait_for(state="visible")
            for _ in range(4):  # label on (by the right answer), a round after each few
                points = len(httpx.get(f"http://127.0.0.1:{port}/api/stats").json()["curve"])
                for _ in range(4):
                    item = current()
                    label = "pos" if item == 0 else truth(texts[item])
                    press("1" if label == "pos" else "2")
                    pressed.append((item, "label", label))
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # the curve grows as rounds come in
                    stats = httpx.get(f"http://127.0.0.1:{port}/api/stats").json()
                    if len(stats["curve"]) > points and not stats["training"]:
                        break
                    time.sleep(0.2)
            page.wait_for_function(
                "document.querySelectorAll('#curve circle').length >= 3", timeout=120_000
            )
            page.reload()  # the item held, with the latest model's suggestion
            text.wait_for(state="visible")
            assert re.fullmatch(
                r"Model suggests: (pos|neg) \(\d{1,3}%\)", page.locator("#suggestion").inner_text()
            )
            expected = Counter(label for _, kind, label in pressed if kind == "label")
            page.wait_for_function(  # the side panel: labels so far per class
                "document.querySelectorAll('#counts tr').length === 2", timeout=30_000
            )
            rows = page.locator("#counts tr").all_inner_texts()
            assert [r.split() for r in rows] == [[k, str(expected[k])] for k in ("pos", "neg")]
            assert page.locator("#curve-note").inner_text().startswith("Latest: ")
            assert page.locator("#stopping").inner_text().strip()  # the stopping criterion
            assert page.locator("#who-form").is_hidden()
            page.screenshot(path=str(shots / "labeling.png"))
            assert not errors, errors
            browser.close()
            outside = [u for u in fetched if not u.startswith(f"http://127.0.0.1:{port}/")]
            assert fetched and not outside, outside
    finally:
        stop_server(proc)
    store = LabelStore(db)
    held = [(r["item_id"], r["kind"], r["label"]) for r in store.answers()
            if r["annotator"] == "tester"]  # fmt: skip
    assert held == pressed
    assert (shots / "labeling.png").stat().st_size > 10_000


def test_a_per_annotator_token_says_who_labels_without_asking_a_name(tmp_path, browser_kit):
    sync_api, chromium = browser_kit
    data = tmp_path / "data.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in pool(20))
    db = f"sqlite:///{tmp_path / 'labels.sqlite'}"
    port = free_port()
    args = [str(data), "--labels", "pos,neg", "--featurizer", "glove50", "--db", db,
            "--double", "1",  # every item needs two annotators: the panel shows agreement
            "--annotator-token", "alice=alice-token-1",
            "--annotator-token", "bob=bob-token-22"]  # fmt: skip
    proc = start_server(args, port)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox"])  # fmt: skip
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # ?annotator= names someone else: the token wins, the page never asks
            page.goto(f"http://127.0.0.1:{port}/?token=bob-token-22&annotator=alice")
            text = page.locator("#text")
            text.wait_for(state="visible")
            assert page.locator("#who-form").is_hidden()
            assert page.locator("#who-shown").text_content() == "Labeling as bob"
            first = text.get_attribute("data-item-id")
            alice = {"Authorization": "Bearer alice-token-1"}  # the item's second annotator
            base = f"http://127.0.0.1:{port}"
            for _ in range(20):  # (a round may have reordered the queue since bob's item)
                theirs = httpx.post(f"{base}/api/next", json={}, headers=alice).json()["item"]
                if theirs["id"] == int(first):
                    break
                httpx.post(f"{base}/api/skip", json={"item_id": theirs["id"]}, headers=alice)
            assert theirs["id"] == int(first) and theirs["required"] == 2
            body = {"item_id": theirs["id"], "label": "neg"}
            assert httpx.post(f"{base}/api/answer", json=body, headers=alice).status_code == 200
            page.keyboard.press("2")
            page.wait_for_function(f"document.getElementById('text').dataset.itemId !== '{first}'")
            page.wait_for_function(
                "document.getElementById('agreement').textContent === "
                "'Two annotators agreed on 1 of 1 items.'",
                timeout=30_000,
            )
            assert not errors, errors
            browser.close()
    finally:
        stop_server(proc)
    answers = [r for r in LabelStore(db).answers() if r["kind"] == "label"]
    assert [(r["item_id"], r["annotator"], r["label"]) for r in answers] == [
        (int(first), "alice", "neg"),
        (int(first), "bob", "neg"),
    ]
