"""Every command turns bad input into one line on stderr and exit status 2, never a traceback.

The commands are enumerated from the typer app, and every option and argument of every command
must either have bad values below (:data:`BAD_VALUES`) or be listed in :data:`NOT_CHECKED` with
the reason: a new command or option is covered, or the test says what to add. Commands that
read no user input (``version``, ...) run in a data home full of bad things (a corrupt default
results store, a cache entry whose label looks like rich markup) and must still work.

The commands run in-process through the console script's entry point
(:func:`littledata.cli.main`), which is what turns an error into its one line.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from _cli import run_main

from littledata.cli import app

#: Bad values per parameter name (the click name: ``spec_file`` for ``--spec``). A callable gets
#: the test's folder of bad files.
BAD_VALUES: dict[str, list[str | Callable[[Path], str]]] = {
    "db": [
        lambda d: f"sqlite:///{d / 'no' / 'such' / 'folder' / 'r.sqlite'}",
        lambda d: f"sqlite:///{d / 'not-a-database.txt'}",
        lambda d: f"sqlite:///{d / 'corrupt.sqlite'}",
        lambda d: f"sqlite:///{d}",
        "not a url",
    ],
    "spec_file": [
        lambda d: str(d / "latin1.toml"),
        lambda d: str(d / "broken.toml"),
        lambda d: str(d / "missing.toml"),
    ],
    "overrides": ["bogus=1", "sizes=-5"],
    "names": ["no-such-dataset", lambda d: str(d / "latin1.csv")],
    "datasets": [
        "no-such-dataset",
        lambda d: str(d / "latin1.csv"),
        lambda d: str(d / "notext.csv"),
        lambda d: str(d / "semicolons.csv"),
    ],
    "name": ["no-such-dataset", lambda d: str(d / "latin1.csv"), lambda d: str(d / "empty.csv")],
    "dataset": [
        "no-such-dataset",
        lambda d: str(d / "latin1.csv"),
        lambda d: str(d / "notext.csv"),
        lambda d: str(d / "nolabel.csv"),
    ],
    "data": ["no-such-dataset", lambda d: str(d / "latin1.csv"), lambda d: str(d / "notext.csv")],
    "mirror": [lambda d: str(d / "no-such-mirror")],
    "featurizer": ["no-such-featurizer", "[/b]"],
    "featurizers": ["no-such-featurizer"],
    "head": ["no-such-head"],
    "head_param": ["no-such-param=1", "max_steps"],
    "heads": ["no-such-head"],
    "strategy": ["no-such-strategy"],
    "init_strategy": ["no-such-strategy"],
    "metric": ["no-such-metric"],
    "split": ["no-such-split"],
    "out": [lambda d: str(d / "not-a-database.txt")],
    "seeds": ["0", "-1"],
    "active": ["no-key-value", "=trec", "strategie=margin"],
    "jobs": ["-5"],
    "init": ["-1"],
    "batch": ["0"],
    "budget": ["-1"],
    "pool_cap": ["-1"],
    "test_cap": ["-1"],
    "subsample": ["0"],
    "stop_threshold": ["2"],
    "stop_window": ["0"],
    "examples": ["-1"],
    "seed": ["-1"],
    "max_labels": ["-1"],
    "width": ["0"],
    "labels": ["onlyone", "a,a"],
    "host": ["0.0.0.0"],
    "port": ["70000"],
    "double": ["2"],
    "lease": ["0"],
    "text_column": ["no-such-column"],
    "label_column": ["no-such-column"],
    "label_columns": ["no-such-column"],
    "text_pair_column": ["no-such-column"],
    "split_column": ["no-such-column"],
    "id_column": ["no-such-column"],
    "file_format": ["no-such-format"],
    "encoding": ["no-such-encoding"],
    "sep": ["toolong"],
    "test": [lambda d: str(d / "latin1.csv"), lambda d: str(d / "missing.csv")],
    "train": [lambda d: str(d / "latin1.csv"), lambda d: str(d / "missing.csv")],
    "folds": ["1"],
    "model_dirs": [lambda d: str(d / "no-such-model"), lambda d: str(d), "bad name=x"],
    "token": [" "],
    "annotators": [
        lambda d: str(d / "missing.toml"),
        lambda d: str(d / "broken.toml"),
        lambda d: str(d / "latin1.toml"),
        lambda d: str(d / "latin1.csv"),
    ],
    "annotator_token": ["no-equals-sign", "alice=short", "file=reserved-name"],
    "items": ["no-such-item", "train:999999"],
    "needed": ["3", "0"],
    "max_texts": ["0"],
    "max_chars": ["0"],
    "max_body_bytes": ["0"],
    "max_batch": ["0"],
    "batch_wait_ms": ["-1"],
    "model": [
        lambda d: str(d / "no-such-model"),
        lambda d: str(d / "not-a-database.txt"),
        lambda d: str(d),
    ],
}

#: Parameters not given bad values here, and why.
NOT_CHECKED: dict[str, str] = {
    "batch_size": "sizes are checked where featurization starts (tests/test_features.py)",
    "input": "needs a saved model first: tests/test_train_predict.py gives predict bad files",
    "out_format": "needs a saved model first: tests/test_train_predict.py gives it bad formats",
}

#: (command..., parameter): the values in BAD_VALUES are not errors there, and why. The command
#: must then succeed (exit status 0, no traceback).
NOT_AN_ERROR: dict[tuple[str, ...], str] = {
    ("cache", "clear", "featurizer"): "clearing a featurizer that has no entries removes nothing",
}

#: Commands that take no option but flags: they must work in a data home full of bad files
#: (``cache ls`` lists an entry whose label looks like rich markup).
NO_INPUT = {
    ("version",),
    ("featurizers",),
    ("datasets", "list"),
    ("active", "strategies"),
    ("cache", "ls"),
}

#: A valid value for each required parameter, so a bad value elsewhere is what fails.
REQUIRED = {
    "datasets": "trec",
    "name": "trec",
    "dataset": "trec",
    "data": "trec",
    "out": "no-such-folder/model",  # train's: every bad value fails before anything is written
    "model": "no-such-model",
    "input": "no-such-file.csv",
    "model_dirs": "no-such-model",
    "items": "train:1",
}

#: Where a command needs another valid value for a required parameter than REQUIRED gives.
REQUIRED_FOR: dict[tuple[str, ...], dict[str, str]] = {
    ("label", "export"): {"out": "labels.csv"},
}

#: The parameters that name a command's data (a registered dataset or a user's file).
DATA_PARAMS = ("data", "datasets", "dataset", "name")


def _commands() -> Iterator[tuple[tuple[str, ...], Any]]:
    def walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in sorted(subs.items()):
                yield from walk(sub, (*path, name))
        else:
            yield path, cmd

    yield from walk(typer.main.get_command(app), ())


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _argv(path: tuple[str, ...], cmd: Any, bad: Any, value: str) -> list[str]:
    args = list(path)
    for param in cmd.params:
        if param is bad:
            continue
        if param.required:
            given = REQUIRED_FOR.get(path, {}).get(param.name, REQUIRED[param.name])
            args += [given] if param.param_type_name == "argument" else [param.opts[0], given]
    if bad.param_type_name == "argument":
        args.append(value)
    else:
        args += [bad.opts[0], value]
    if bad.name != "port" and any(p.name == "port" for p in cmd.params):
        args += ["--port", str(_free_port())]  # a busy default port must not be what fails
    if path == ("bench",):  # plan a tiny grid only: the bad value must fail before any trial
        args.append("--dry-run")
        if bad.name != "overrides":
            args += ["datasets=trec", "featurizers=tfidf", "heads=logreg", "sizes=20", "seeds=1"]
    return args


def _cases() -> list[Any]:
    cases = []
    for path, cmd in _commands():
        for param in cmd.params:
            if _is_flag(param) or param.name in NOT_CHECKED:
                continue
            for i in range(len(BAD_VALUES.get(param.name, []))):
                case_id = f"{' '.join(path)}-{param.name}-{i}"
                cases.append(pytest.param(path, param.name, i, id=case_id))
    return cases


def test_every_command_and_option_is_covered() -> None:
    missing = []
    for path, cmd in _commands():
        names = [p.name for p in cmd.params if not _is_flag(p)]
        unknown = [n for n in names if n not in BAD_VALUES and n not in NOT_CHECKED]
        missing += [f"{' '.join(path)} {n}" for n in unknown]
        if not names and path not in NO_INPUT:
            missing.append(f"{' '.join(path)} (reads no option: add it to NO_INPUT?)")
        if names and path in NO_INPUT:
            missing.append(f"{' '.join(path)} takes options now: remove it from NO_INPUT")
    assert not missing, f"give bad values in BAD_VALUES (or a reason in NOT_CHECKED): {missing}"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "latin1.toml").write_bytes('name = "café"\n'.encode("latin-1"))
    (d / "broken.toml").write_text("datasets = [\n", encoding="utf-8")
    (d / "latin1.csv").write_bytes("text,label\ncafé au lait,1\nthé,0\n".encode("latin-1"))
    (d / "notext.csv").write_text("words,label\nhello there,a\nbye now,b\n", encoding="utf-8")
    (d / "semicolons.csv").write_text("text;label\nhello;a\nbye;b\n", encoding="utf-8")
    (d / "nolabel.csv").write_text("text,label\nhello there,a\nbye now,\n", encoding="utf-8")
    (d / "empty.csv").write_bytes(b"")
    (d / "not-a-database.txt").write_text("hello, not a database\n", encoding="utf-8")
    (d / "corrupt.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4080)
    return d


@pytest.fixture
def hostile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home whose default results store is corrupt and whose feature cache holds an
    entry labelled like rich markup (``q[/x]``)."""
    from littledata.features import featurize

    home = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    featurize(["hello there", "bye now"], "glove50", label="q[/x]")
    (home / "results.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4080)
    return home


@pytest.mark.integration
@pytest.mark.parametrize("path, name, index", _cases())
def test_bad_input_is_one_line_and_exit_status_2(
    path: tuple[str, ...],
    name: str,
    index: int,
    bad_files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_datasets: Path,
) -> None:
    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path / "home"))  # nothing else is wrong
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal: the one line must not be wrapped
    cmd = dict(_commands())[path]
    param = next(p for p in cmd.params if p.name == name)
    value = BAD_VALUES[name][index]
    value = value(bad_files) if callable(value) else value
    args = _argv(path, cmd, param, value)
    code, _out, err = run_main(args, capsys)
    if (*path, name) in NOT_AN_ERROR:
        assert code == 0 and "Traceback" not in err, (args, code, err)
        return
    lines = err.strip().splitlines()
    assert code == 2, (args, code, err)
    assert "Traceback" not in err
    # the error is one line, the last (a command may say what it starts before, e.g. `bench`)
    errors = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    assert errors == [len(lines) - 1], (args, err)
    # every option the message tells the user to pass exists on the command it names
    assert not wrong_hints(lines[-1], path), (args, lines[-1], wrong_hints(lines[-1], path))


def _options(path: tuple[str, ...]) -> set[str] | None:
    """Every option name of the command ``path`` (``None``: no such command)."""
    cmd = dict(_commands()).get(path)
    if cmd is None:
        return None
    names = {"--help"}
    for param in cmd.params:
        names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("--"))
    return names


def _command_of(words: list[str]) -> tuple[str, ...]:
    """The longest command path that ``words`` (after ``littledata``) start with."""
    commands = {path for path, _ in _commands()}
    best: tuple[str, ...] = ()
    for n in range(1, len(words) + 1):
        if tuple(words[:n]) in commands:
            best = tuple(words[:n])
    return best


_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def wrong_hints(message: str, path: tuple[str, ...]) -> list[str]:
    """The options a message names that its command (or the command it quotes) lacks.

    ```littledata CMD ... --opt``` in backquotes names an option of CMD; ``pip install ...``
    names pip's; any other ``--opt`` is an option of ``path``, the command that failed.
    """
    wrong = []
    rest = message
    for quoted in re.findall(r"`littledata ([^`]*)`", message):
        words = quoted.split()
        other = _command_of(words)
        allowed = _options(other) or set()
        wrong += [f"{' '.join(other)} {o}" for o in _OPTION.findall(quoted) if o not in allowed]
        rest = rest.replace(f"`littledata {quoted}`", " ")
    rest = re.sub(r"pip install[^`'\"]*", " ", rest)
    allowed = _options(path) or set()
    wrong += [f"{' '.join(path)} {o}" for o in _OPTION.findall(rest) if o not in allowed]
    return wrong


def test_the_hint_check_catches_an_option_the_command_lacks() -> None:
    assert wrong_hints("Error: pass --text-column q", ("featurize",)) == []
    assert wrong_hints("Error: pass --no-such-flag", ("featurize",)) == ["featurize --no-such-flag"]
    assert wrong_hints("Run `littledata bench --quick` first", ("results",)) == []
    assert wrong_hints("Run `littledata results --quick` first", ("report",)) == ["results --quick"]
    assert wrong_hints("pip install --no-deps x (then retry)", ("featurize",)) == []


def _data_commands() -> list[Any]:
    """Every command that reads a user's data file (it takes the file options)."""
    out = []
    for path, cmd in _commands():
        names = {p.name for p in cmd.params}
        if "text_column" in names and names & set(DATA_PARAMS):  # predict reads texts only
            data = next(p for p in cmd.params if p.name in DATA_PARAMS)
            out.append(pytest.param(path, data.name, id=" ".join(path)))
    return out


def test_every_data_command_takes_the_same_file_options_and_says_what_it_accepts() -> None:
    from littledata.cli.data_options import _OPTIONS

    shared = {name for name, _, _ in _OPTIONS}
    commands = _data_commands()
    assert len(commands) >= 4  # datasets show, featurize, bench, active simulate
    for case in commands:
        path, data = case.values
        cmd = dict(_commands())[path]
        assert shared <= {p.name for p in cmd.params}, path
        param = next(p for p in cmd.params if p.name == data)
        help_text = " ".join(str(getattr(param, "help", "") or "").split()).lower()
        assert "registered" in help_text and ".csv" in help_text, (path, help_text)
    for path, cmd in _commands():  # every command says what it is for
        assert (cmd.help or "").strip(), path


@pytest.mark.integration
@pytest.mark.parametrize("path, data", _data_commands())
def test_a_file_error_names_options_the_command_has(
    path: tuple[str, ...],
    data: str,
    bad_files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file without a text column: every data command says to pass --text-column, and has it."""
    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path / "home"))
    cmd = dict(_commands())[path]
    param = next(p for p in cmd.params if p.name == data)
    args = _argv(path, cmd, param, str(bad_files / "notext.csv"))
    code, _out, err = run_main(args, capsys)
    assert code == 2, (args, err)
    message = err.strip().splitlines()[-1]
    assert "--text-column" in message, message
    assert not wrong_hints(message, path), message


@pytest.mark.integration
@pytest.mark.parametrize("path", sorted(NO_INPUT), ids=" ".join)
def test_commands_without_input_work_in_a_data_home_full_of_bad_files(
    path: tuple[str, ...], hostile_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(list(path), capsys)
    assert code == 0, err
    assert "Traceback" not in err and out


@pytest.mark.integration
def test_cache_ls_shows_a_label_that_looks_like_markup_as_it_is(
    hostile_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_main(["cache", "ls"], capsys)
    assert code == 0, err
    assert "q[/x]" in out and "1 entries" in out
    code, out, err = run_main(["cache", "clear"], capsys)
    assert code == 0 and "Removed 1 cache entries" in out, err
