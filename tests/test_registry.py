"""The one registry API that datasets, featurizers, heads, strategies and metrics share."""

from __future__ import annotations

import dataclasses

import pytest

from littledata.errors import DuplicateNameError, UnknownNameError
from littledata.registry import Registry


def test_reads_like_a_dict_and_get_suggests_close_names() -> None:
    reg: Registry[int] = Registry("widget")
    assert reg.add("alpha", 1) == 1
    reg.add("beta", 2, aliases=["b"])
    assert "alpha" in reg and "b" not in reg and "gamma" not in reg
    assert reg["beta"] == 2 and len(reg) == 2 and list(reg) == ["alpha", "beta"]
    assert dict(reg.items()) == {"alpha": 1, "beta": 2} and reg.names() == ["alpha", "beta"]
    assert reg.get("b") == 2 and reg.resolve("b") == "beta" and dict(reg.aliases) == {"b": "beta"}
    with pytest.raises(KeyError):
        reg["gamma"]
    with pytest.raises(UnknownNameError, match=r"Unknown widget 'alpa'\. Did you mean: alpha\?"):
        reg.get("alpa")
    assert reg.get("alpa", None) is None  # with a default it answers like dict.get
    assert reg.remove("beta") == 2 and "beta" not in reg and reg.get("b", 0) == 0


def test_duplicate_names_and_aliases_are_refused() -> None:
    reg: Registry[int] = Registry("widget")
    reg.add("alpha", 1, aliases=["a"])
    for name, aliases in (("alpha", ()), ("a", ()), ("beta", ("alpha",)), ("beta", ("a",))):
        with pytest.raises(DuplicateNameError, match="is already registered"):
            reg.add(name, 2, aliases=aliases)
    assert dict(reg) == {"alpha": 1} and "beta" not in reg.aliases.values()


def test_a_loader_fills_the_registry_once_on_first_use() -> None:
    calls = []
    reg: Registry[int] = Registry("widget")

    def load() -> None:
        calls.append(1)
        reg.add("builtin", 0)

    reg.set_loader(load)
    assert calls == []
    with pytest.raises(DuplicateNameError):  # an addition loads first, so it sees the builtins
        reg.add("builtin", 1)
    assert calls == [1] and dict(reg) == {"builtin": 0} and calls == [1]


def test_dataset_registry_refuses_a_taken_name_and_fills_itself() -> None:
    from littledata.datasets.registry import DATASETS, get_spec, register

    sst2 = get_spec("sst2")  # the catalog registered itself on first use
    with pytest.raises(DuplicateNameError, match="dataset 'sst2' is already registered"):
        register(dataclasses.replace(sst2, description="another"))
    assert DATASETS["sst2"] is sst2
    with pytest.raises(UnknownNameError, match="Did you mean: sst2"):
        get_spec("sst3")


def test_featurizer_registry_refuses_a_taken_name_or_alias() -> None:
    from littledata.features import FEATURIZERS, get_featurizer
    from littledata.features.base import ALIASES, register

    before = dict(FEATURIZERS)
    with pytest.raises(DuplicateNameError, match="featurizer 'minilm' is already registered"):
        register("minilm", description="another")(lambda **_: None)  # type: ignore[arg-type,return-value]
    alias = next(iter(ALIASES))
    with pytest.raises(DuplicateNameError, match=f"featurizer {alias!r} is already registered"):
        register("fresh-name", description="x", aliases=[alias])(lambda **_: None)  # type: ignore[arg-type,return-value]
    assert dict(FEATURIZERS) == before
    with pytest.raises(UnknownNameError, match="Did you mean: minilm"):
        get_featurizer("minilmm")


def test_head_registry_refuses_a_taken_name() -> None:
    from littledata.heads import HEADS, register_head

    info = HEADS["logreg"]
    with pytest.raises(DuplicateNameError, match="head 'logreg' is already registered"):
        register_head("logreg", inputs={"dense"}, description="x")(info.factory)
    assert HEADS["logreg"] is info


def test_strategy_registry_refuses_a_taken_name_or_alias() -> None:
    from littledata.active.strategies import STRATEGIES, QueryStrategy, register_strategy

    class Another(QueryStrategy):
        pass

    with pytest.raises(DuplicateNameError, match="query strategy 'margin' is already registered"):
        register_strategy("margin", category="uncertainty")(Another)
    with pytest.raises(DuplicateNameError, match="query strategy 'qbc' is already registered"):
        register_strategy("fresh", category="uncertainty", aliases=["qbc"])(Another)
    assert STRATEGIES["margin"].__name__ == "MarginSampling" and "fresh" not in STRATEGIES
    assert Another.name == ""  # a refused class is left as it was
