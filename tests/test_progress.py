"""One progress display: plain lines without a terminal, an ETA weighted by estimated work and
refined by measured time, sub-bars reporting on the current step, featurize bars by characters."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from littledata import progress
from littledata.features.base import CHARS_PER_TEXT, BaseFeaturizer


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def test_plain_lines_have_no_control_characters(clock: _Clock) -> None:
    out = io.StringIO()
    with progress.show_progress(plain=True):
        display = progress.RunDisplay(20.0, desc="bench quick", stream=out, interval=0)
        display.plan("features", 10.0)
        display.plan("trials", 10.0)
        with display:
            with display.step("features sst2 × minilm", 10.0, kind="features") as step:
                with progress.bar(total=4, desc="featurize minilm", unit="text") as b:
                    for _ in range(4):
                        clock.now += 2.5
                        b.update(1)
                assert "featurize minilm 4/4 text" in step.status
            display.note("features: 1 set in 0:10")
            with display.step("trials", 10.0, kind="trials") as step:
                for i in range(10):
                    clock.now += 1.0
                    step.update(1.0, f"{i + 1}/10 trials")
    text = out.getvalue()
    assert text and all(c.isprintable() for line in text.splitlines() for c in line)
    assert "\r" not in text and "\x1b" not in text
    assert "features: 1 set in 0:10" in text.splitlines()
    assert "| features sst2 × minilm: featurize minilm 2/4 text" in text
    assert text.splitlines()[-1].startswith("[100%] bench quick: elapsed 0:20, ETA 0:00")


def test_the_eta_is_refined_per_kind_by_measured_time(clock: _Clock) -> None:
    display = progress.RunDisplay(20.0)
    display.plan("features", 10.0)
    display.plan("trials", 10.0)
    assert display.eta() is None  # nothing done, nothing measured
    with display.step("features", 10.0, kind="features") as step:
        clock.now += 10.0  # twice the estimate
        step.update(5.0)
        assert display.eta() == pytest.approx(5 * 2 + 10 * 1)  # trials not started: as planned
        clock.now += 10.0
    with display.step("trials", 10.0, kind="trials") as step:
        clock.now += 5.0  # as estimated
        step.update(5.0)
        assert display.eta() == pytest.approx(5.0)
    assert display.fraction() == 1.0 and display.history[-1][1] == 1.0


class _LongestFirst(BaseFeaturizer):
    """Encodes the longest text first (like a transformer encoder) and says which rows."""

    name = "longest-first"

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"toy": 1}

    @property
    def dim(self) -> int:
        return 2

    def _transform_into(self, texts: list[str], out: np.ndarray, batch_size: int, advance: Any):
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i in order:
            out[i] = len(texts[i])
            advance(1, [i])
            self.seen.append(display_fraction())


def display_fraction() -> float:
    display = progress._DISPLAY.get()
    assert display is not None
    return display.fraction()


def test_a_featurize_bar_weighs_texts_by_length_not_count(clock: _Clock) -> None:
    texts = ["x" * 992, "a", "b", "c"]  # the long one first: one text of four, ~97% of the work
    fz = _LongestFirst()
    fz.seen = []  # type: ignore[attr-defined]
    with (
        progress.show_progress(plain=True),
        progress.RunDisplay(1.0, stream=io.StringIO(), interval=1e9) as display,
        display.step("features", 1.0, kind="features"),
    ):
        fz.transform(texts)
    total = sum(len(t) + CHARS_PER_TEXT for t in texts)
    assert fz.seen[0] == pytest.approx((992 + CHARS_PER_TEXT) / total)  # type: ignore[attr-defined]
    assert fz.seen[-1] == pytest.approx(1.0)  # type: ignore[attr-defined]


def test_plain_bar_lines(capsys: pytest.CaptureFixture[str], clock: _Clock) -> None:
    with progress.show_progress(plain=True):
        for _ in progress.track(range(3), desc="files", unit="file"):
            clock.now += 1
    err = capsys.readouterr().err
    assert err == "files: 3/3 file (100%), elapsed 0:03\n"
    with progress.show_progress(False):
        list(progress.track(range(3), desc="files"))
    assert capsys.readouterr().err == ""


class _TwiceAsSlow(BaseFeaturizer):
    """Takes (on the fake clock) twice the seconds the cost model gave its step, text by text,
    and records the display's ETA after each batch of one text."""

    name = "twice-as-slow"

    def __init__(self, clock: _Clock, seconds_per_char: float) -> None:
        self.clock, self.seconds_per_char, self.etas = clock, seconds_per_char, []

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"toy": 2}

    @property
    def dim(self) -> int:
        return 1

    def _transform_into(self, texts: list[str], out: np.ndarray, batch_size: int, advance: Any):
        for i, text in enumerate(texts):
            self.clock.now += 2 * self.seconds_per_char * (len(text) + CHARS_PER_TEXT)
            out[i] = 0.0
            advance(1)
            display = progress._DISPLAY.get()
            assert display is not None
            self.etas.append(display.eta())


def test_the_first_batches_of_an_encoder_calibrate_the_eta_before_its_set_is_done(
    clock: _Clock,
) -> None:
    texts = ["x" * 92] * 10  # 100 characters each on the bar: 1000 in all
    fz = _TwiceAsSlow(clock, seconds_per_char=100.0 / 1000)  # the step's 100 s, twice over
    display = progress.RunDisplay(160.0, interval=1e9)
    display.plan("features/minilm", 100.0)
    display.plan("features/glove50", 10.0)
    display.plan("trials", 50.0)
    with (
        progress.show_progress(plain=True),
        display,
        display.step("features a × minilm", 100.0, kind="features/minilm", inner_total=1000),
    ):
        fz.transform(texts)
    # after 3 of 10 texts (30 estimated seconds in 60 s): the rest of minilm twice over, glove50
    # (not started) at the features' measured ratio, the trials (another kind) as estimated
    assert fz.etas[2] == pytest.approx(70 * 2 + 10 * 2 + 50)
    assert fz.etas[-1] == pytest.approx(10 * 2 + 50)


def test_each_encoder_keeps_its_own_measured_speed(clock: _Clock) -> None:
    display = progress.RunDisplay(120.0)
    display.plan("features/minilm", 100.0)
    display.plan("features/glove50", 20.0)
    with display.step("minilm", 50.0, kind="features/minilm") as step:
        clock.now += 100.0  # twice its estimate
        step.update(50.0)
    with display.step("glove50", 10.0, kind="features/glove50") as step:
        clock.now += 5.0  # half its estimate
        step.update(10.0)
    assert display.ratio("features/minilm") == pytest.approx(2.0)
    assert display.ratio("features/glove50") == pytest.approx(0.5)
    assert display.eta() == pytest.approx(50 * 2.0 + 10 * 0.5)
    assert display.ratio("features/tfidf") == pytest.approx(105.0 / 60)  # the features' so far
    assert display.ratio("trials") == 1.0  # no trial measured: the estimate stands


class _Encoding(dict):
    """One piece per word; a piece's id is its word's length (0 for padding)."""

    def __init__(self, batch: list[list[str]]) -> None:
        import torch

        width = max(len(words) for words in batch)
        ids = [[len(w) for w in words] + [0] * (width - len(words)) for words in batch]
        super().__init__(ids=torch.tensor(ids, dtype=torch.float32))
        self.lengths = [len(words) for words in batch]

    def word_ids(self, i: int) -> list[int | None]:
        return [*range(self.lengths[i]), *[None] * (self["ids"].shape[1] - self.lengths[i])]


class _WordEncoder:
    """A contextual encoder of one piece per word (the shape of the real one), no model: a
    word's vector is its length, thrice. Records the sentence lengths of each batch."""

    max_length, dim, kind, name = 16, 3, "dense", "toy-words"

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def tokenizer(self, batch: list[list[str]], **_: Any) -> _Encoding:
        self.batches.append([len(words) for words in batch])
        return _Encoding(batch)

    def model(self, ids: Any) -> Any:
        return SimpleNamespace(last_hidden_state=ids[..., None].repeat(1, 1, self.dim))


def test_token_features_report_the_characters_a_run_expects_of_their_sentences(
    clock: _Clock,
) -> None:
    from littledata.experiments.prepare import progress_chars
    from littledata.features.tokens import token_features

    pool = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["BRUSSELS"]]
    test = [["Japan", "began", "the", "defence"]]
    prep = SimpleNamespace(pool_tokens=pool, test_tokens=test, pool_sides=None, test_sides=None)
    seen: list[float] = []
    with (
        progress.show_progress(plain=True),
        progress.RunDisplay(1.0, stream=io.StringIO(), interval=1e9) as display,
        display.step("features", 1.0, kind="features/toy", inner_total=progress_chars(prep)),
    ):
        for sentences in (pool, test):
            fz = _WordEncoder()
            out = token_features(fz, sentences, batch_size=2, cache=False)
            seen.append(display.fraction())
            # encoded shortest sentences first, each word's row back in the input's order
            assert [n for b in fz.batches for n in b] == sorted(len(w) for w in sentences)
            assert out[:, 0].tolist() == [len(w) for words in sentences for w in words]
    expected = sum(len(" ".join(w)) + CHARS_PER_TEXT for w in pool) / progress_chars(prep)
    assert seen[0] == pytest.approx(expected)  # counted as it went, not only when the step ended
    assert seen[1] == pytest.approx(1.0)
