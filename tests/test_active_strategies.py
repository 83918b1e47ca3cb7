"""Query strategies on small synthetic problems whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from littledata.active.strategies import (
    STRATEGIES,
    FixedFeatures,
    QueryContext,
    QueryStrategy,
    Subsample,
    get_strategy,
    list_strategies,
)
from littledata.errors import ConfigError, DataFormatError, UnknownNameError

ALL = sorted(STRATEGIES)


class FixedProba:
    """A stand-in 'model' whose probabilities are given row by row (to check the formulas)."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = np.asarray(proba, dtype=float)
        self.classes_ = np.arange(self.proba.shape[1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba[np.asarray(X[:, 0], dtype=int)]


def _line_problem() -> tuple[np.ndarray, LogisticRegression, np.ndarray, np.ndarray]:
    """61 points on a line from -3 to 3; labeled ends; the boundary is at 0."""
    x = np.round(np.linspace(-3, 3, 61), 6)
    X = np.stack([x, np.zeros_like(x)], axis=1)
    labeled = np.array([0, 1, 59, 60])
    model = LogisticRegression().fit(X[labeled], [0, 0, 1, 1])
    unlabeled = np.setdiff1d(np.arange(61), labeled)
    return X, model, labeled, unlabeled


@pytest.mark.parametrize("name", ["least-confidence", "margin", "entropy"])
def test_uncertainty_picks_points_nearest_the_boundary(name: str) -> None:
    X, model, labeled, unlabeled = _line_problem()
    picked = get_strategy(name).query_features(
        model, X, labeled, unlabeled, [0, 0, 1, 1], 3, seed=0
    )
    assert sorted(np.round(X[picked, 0], 6).tolist()) == [-0.1, 0.0, 0.1]
    assert picked[0] == 30  # x = 0 exactly: the most uncertain of all


def test_uncertainty_formulas_differ_as_expected() -> None:
    # A: [.5,.5,0]  B: [.45,.275,.275]  C: [.6,.2,.2]
    proba = np.array([[0.5, 0.5, 0.0], [0.45, 0.275, 0.275], [0.6, 0.2, 0.2]])
    X = np.arange(3, dtype=float)[:, None]
    model = FixedProba(proba)
    order = {
        name: get_strategy(name).query_features(model, X, [], [0, 1, 2], [], 3, seed=0).tolist()
        for name in ("least-confidence", "margin", "entropy")
    }
    assert order == {
        "least-confidence": [1, 0, 2],  # 1 - max p: .55 > .5 > .4
        "margin": [0, 1, 2],  # top-2 gap: 0 < .175 < .4
        "entropy": [1, 2, 0],  # 1.07 > 0.95 > 0.69
    }


def test_margin_tie_break_is_seeded_and_never_skips_a_better_point() -> None:
    proba = np.array([[0.5, 0.5]] * 6 + [[0.9, 0.1]] * 4)
    X = np.arange(10, dtype=float)[:, None]
    model = FixedProba(proba)
    runs = {
        s: get_strategy("margin")
        .query_features(model, X, [], np.arange(10), [], 4, seed=s)
        .tolist()
        for s in range(5)
    }
    assert (
        runs[0]
        == get_strategy("margin")
        .query_features(model, X, [], np.arange(10), [], 4, seed=0)
        .tolist()
    )
    assert all(set(r) <= set(range(6)) for r in runs.values())  # ties all beat the 0.9 rows
    assert len({tuple(r) for r in runs.values()}) > 1  # the seed decides among equal margins


def test_kcenter_covers_far_clusters_first() -> None:
    rng = np.random.default_rng(0)
    near = rng.normal(0, 0.3, size=(30, 2))
    mid = rng.normal(0, 0.3, size=(5, 2)) + np.array([10, 0])
    far = rng.normal(0, 0.3, size=(5, 2)) + np.array([0, 30])
    X = np.vstack([near, mid, far])
    labeled = np.arange(10)  # ten rows of the near cluster
    unlabeled = np.arange(10, 40)
    picked = get_strategy("kcenter").query_features(
        None, X, labeled, unlabeled, np.zeros(10), 3, seed=0
    )
    assert 35 <= picked[0] < 40  # the farthest cluster first
    assert 30 <= picked[1] < 35  # then the middle one
    # the third pick is the candidate farthest from everything labeled or picked before it
    covered = X[np.r_[labeled, picked[:2]]]
    gap = {
        i: np.min(np.linalg.norm(covered - X[i], axis=1)) for i in set(unlabeled) - {*picked[:2]}
    }
    assert picked[2] == max(gap, key=gap.__getitem__)
    # with no labels at all, three picks land in three different clusters
    picked = get_strategy("kcenter").query_features(None, X, [], np.arange(40), [], 3, seed=1)
    assert {0 if i < 30 else 1 if i < 35 else 2 for i in picked} == {0, 1, 2}


def _boundary_with_a_clump() -> tuple[np.ndarray, LogisticRegression, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x2 = np.linspace(-20, 20, 9)
    lab0 = np.stack([np.full(9, -5.0), x2], axis=1)
    lab1 = np.stack([np.full(9, 5.0), x2], axis=1)
    # 30 near-duplicates next to the boundary (all on one side, so one pseudo-label)
    clump = rng.normal(0, 1e-3, size=(30, 2)) + np.array([0.2, 5.0])
    spread = np.array([[0.5, 10], [0.5, -10], [-0.5, 20], [-0.5, -20], [0.4, 0], [-0.4, 15]])
    confident = np.stack([np.full(10, 30.0) * np.sign(np.arange(10) - 4.5), np.zeros(10)], 1)
    X = np.vstack([lab0, lab1, clump, spread, confident])
    labeled = np.arange(18)
    model = LogisticRegression().fit(X[labeled], [0] * 9 + [1] * 9)
    return X, model, labeled, np.arange(18, len(X))


def test_badge_batch_spans_the_boundary_instead_of_near_duplicates() -> None:
    X, model, labeled, unlabeled = _boundary_with_a_clump()
    y = [0] * 9 + [1] * 9
    clump = set(range(18, 48))
    confident = set(range(54, 64))
    margin = get_strategy("margin").query_features(model, X, labeled, unlabeled, y, 5, seed=0)
    assert set(margin.tolist()) <= clump  # margin alone takes 5 near-duplicates
    for seed in range(5):
        badge = get_strategy("badge").query_features(model, X, labeled, unlabeled, y, 5, seed=seed)
        assert len(set(badge.tolist()) & clump) <= 1  # at most one of the duplicates
        assert len(set(badge.tolist()) & confident) <= 1  # near-zero gradients: one at most


def _three_clumps_on_the_boundary() -> tuple[np.ndarray, LogisticRegression, np.ndarray]:
    """Boundary x = 0; three clumps of 10 near-duplicates just right of it, at y = -10, 0, 10
    (the y = -10 clump nearest the boundary), and 10 confident rows far from it."""
    rng = np.random.default_rng(0)
    lab = np.array([[s * 2.0, y] for s in (-1, 1) for y in (-10.0, 0.0, 10.0)])
    clumps = [
        rng.normal(0, 1e-3, size=(10, 2)) + np.array([x, y])
        for x, y in ((0.05, -10), (0.1, 0), (0.15, 10))
    ]
    far = np.stack([np.repeat([-5.0, 5.0], 5), np.tile(np.linspace(-10, 10, 5), 2)], axis=1)
    X = np.vstack([lab, *clumps, far])
    model = LogisticRegression().fit(X[:6], [0, 0, 0, 1, 1, 1])
    return X, model, np.arange(6)


def test_cluster_margin_takes_one_row_per_uncertain_clump() -> None:
    X, model, labeled = _three_clumps_on_the_boundary()
    y = [0, 0, 0, 1, 1, 1]
    unlabeled = np.arange(6, len(X))
    clump_of = {i: (i - 6) // 10 for i in range(6, 36)}  # 0, 1, 2; far rows are not in it
    margin = get_strategy("margin").query_features(model, X, labeled, unlabeled, y, 3, seed=0)
    assert {clump_of.get(int(i)) for i in margin} == {0}  # margin: 3 near-duplicates
    for seed in range(5):
        cm = get_strategy("cluster-margin", factor=10).query_features(
            model, X, labeled, unlabeled, y, 3, seed=seed
        )
        assert [clump_of.get(int(i)) for i in cm] == [0, 1, 2]  # one each, most uncertain first
        # each pick is its clump's most uncertain row (smallest x: nearest the boundary)
        for i in cm:
            members = [j for j, c in clump_of.items() if c == clump_of[int(i)]]
            assert X[i, 0] == X[members, 0].min()
    one = get_strategy("cluster-margin", factor=1).query_features(
        model, X, labeled, unlabeled, y, 3, seed=0
    )
    assert one.tolist() == margin.tolist()  # factor 1 is margin sampling


def test_cluster_margin_fills_the_batch_when_candidates_are_duplicates() -> None:
    X = np.vstack([[[-2.0, 0.0], [2.0, 0.0]], np.zeros((6, 2)), [[0.5, 0.0]]])
    model = LogisticRegression().fit(X[:2], [0, 1])
    chosen = get_strategy("cluster-margin").query_features(
        model, X, [0, 1], np.arange(2, 9), [0, 1], 4
    )
    assert len(set(chosen.tolist())) == 4


def test_cluster_margin_rejects_bad_parameters() -> None:
    for bad in (0, 2.5, True):
        with pytest.raises(ConfigError, match="factor"):
            get_strategy("cluster-margin", factor=bad)


def _three_grids() -> tuple[np.ndarray, list[np.ndarray]]:
    """Three 1-D grids of 41, 31 and 21 rows, far apart, each densest in its middle (spacing
    grows with the distance from it), and two outliers (rows 93-94) far from everything. A
    grid's middle row has the densest neighbourhood: it is the typical one."""
    t = [np.linspace(-1, 1, size) for size in (41, 31, 21)]
    grids = [np.sign(u) * u**2 + centre for u, centre in zip(t, (0, 100, 200), strict=True)]
    x = np.concatenate([*grids, [500.0, 501.0]])
    X = np.stack([x, np.zeros_like(x)], axis=1)
    rows, start = [], 0
    for g in grids:
        rows.append(np.arange(start, start + len(g)))
        start += len(g)
    return X, rows


def test_typiclust_takes_the_middle_of_the_largest_uncovered_cluster_first() -> None:
    X, (big, mid, small) = _three_grids()
    middle = [int(r[len(r) // 2]) for r in (big, mid, small)]
    strat = get_strategy("typiclust", n_clusters=4)  # three grids and the outlier pair
    everything = np.arange(len(X))
    for seed in range(3):
        assert strat.query_features(None, X, [], everything, [], 3, seed=seed).tolist() == middle
    # a cluster that already holds a label waits until every cluster holds one
    labeled = np.array([middle[0]])
    rest = np.setdiff1d(everything, labeled)
    picked = strat.query_features(None, X, labeled, rest, [0], 3, seed=0).tolist()
    assert picked[:2] == middle[1:] and picked[2] in big.tolist()
    # the outlier pair (a cluster smaller than min_cluster_size) is visited only when asked
    assert not {93, 94} & set(
        strat.query_features(None, X, [], everything, [], 10, seed=0).tolist()
    )
    loose = get_strategy("typiclust", n_clusters=4, min_cluster_size=1)
    assert {93, 94} & set(loose.query_features(None, X, [], everything, [], 4, seed=0).tolist())


def test_typiclust_default_clusters_follow_the_labels() -> None:
    X, (big, mid, small) = _three_grids()
    strat = get_strategy("typiclust")  # labeled rows + n clusters, up to a power of two: 4
    picked = strat.query_features(None, X, [], np.arange(len(X)), [], 3, seed=0)
    assert picked.tolist() == [int(r[len(r) // 2]) for r in (big, mid, small)]
    assert strat._cache is not None and strat._cache[1] == 4
    groups = strat._cache[2]
    strat.query_features(
        None, X, picked, np.setdiff1d(np.arange(len(X)), picked), [0, 1, 2], 1, seed=0
    )
    assert strat._cache[2] is groups  # 3 labeled + 1: still 4 clusters, not clustered again
    strat.query_features(
        None, X, picked, np.setdiff1d(np.arange(len(X)), picked), [0, 1, 2], 2, seed=0
    )
    assert strat._cache[1] == 8  # 3 + 2 rounds up to 8: clustered again
    with pytest.raises(ConfigError, match="knn"):
        get_strategy("typiclust", knn=0)
    with pytest.raises(ConfigError, match="n_clusters"):
        get_strategy("typiclust", n_clusters=2.5)


def test_typiclust_margin_is_typiclust_below_the_switch_and_cluster_margin_after() -> None:
    X, model, labeled = _three_clumps_on_the_boundary()
    y = [0, 0, 0, 1, 1, 1]
    unlabeled = np.arange(6, len(X))
    for seed in range(3):
        # 6 labels, 2 classes: 3 per class reached, so cluster-margin
        after = get_strategy("typiclust-margin", per_class=3, factor=10).query_features(
            model, X, labeled, unlabeled, y, 3, seed=seed, n_classes=2
        )
        cm = get_strategy("cluster-margin", factor=10).query_features(
            model, X, labeled, unlabeled, y, 3, seed=seed
        )
        assert after.tolist() == cm.tolist()
        # 4 per class not reached yet: TypiClust with one cluster per planned label (2 x 4 = 8)
        before = get_strategy("typiclust-margin", per_class=4).query_features(
            model, X, labeled, unlabeled, y, 3, seed=seed, n_classes=2
        )
        typical = get_strategy("typiclust", n_clusters=8).query_features(
            model, X, labeled, unlabeled, y, 3, seed=seed
        )
        assert before.tolist() == typical.tolist()
        assert before.tolist() != cm.tolist()


def test_typiclust_margin_needs_the_size_of_the_label_set() -> None:
    X, model, labeled = _three_clumps_on_the_boundary()
    unlabeled = np.arange(6, len(X))
    strat = get_strategy("typiclust-margin")
    with pytest.raises(ConfigError, match="n_classes"):
        strat.query_features(model, X, labeled, unlabeled, [0, 0, 0, 1, 1, 1], 3)
    with pytest.raises(ConfigError, match="already holds 3"):
        strat.query_features(model, X, labeled, unlabeled, [0, 0, 1, 1, 2, 2], 3, n_classes=2)
    with pytest.raises(ConfigError, match="whole number"):
        strat.query_features(model, X, labeled, unlabeled, [0, 0, 0, 1, 1, 1], 3, n_classes=2.0)
    for bad in ({"per_class": -1}, {"factor": 0}, {"max_clusters": 0}, {"random_state": -1}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            get_strategy("typiclust-margin", **bad)
    wrapped = Subsample("typiclust-margin", size=20)
    assert wrapped.uses_n_classes
    picked = wrapped.query_features(
        model, X, labeled, unlabeled, [0, 0, 0, 1, 1, 1], 3, n_classes=2
    )
    assert len(set(picked.tolist())) == 3


def test_committee_picks_disputed_points() -> None:
    rng = np.random.default_rng(0)
    lab = np.vstack([rng.normal([-1, 0], 1.0, size=(40, 2)), rng.normal([1, 0], 1.0, size=(40, 2))])
    y = np.repeat([0, 1], 40)
    disputed = np.stack([np.linspace(-0.2, 0.2, 10), rng.normal(0, 1, 10)], axis=1)
    settled = np.stack([np.r_[np.full(15, -4.0), np.full(15, 4.0)], rng.normal(0, 1, 30)], 1)
    X = np.vstack([lab, disputed, settled])
    model = LogisticRegression().fit(lab, y)
    unlabeled = np.arange(80, 120)
    for disagreement in ("kl", "vote"):
        strat = get_strategy("committee", n_members=7, disagreement=disagreement)
        picked = strat.query_features(model, X, np.arange(80), unlabeled, y, 5, seed=0)
        assert set(picked.tolist()) <= set(range(80, 90)), disagreement


def test_committee_vote_works_without_probabilities_but_kl_does_not() -> None:
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(-1, 1, (30, 2)), rng.normal(1, 1, (30, 2))])
    y = np.repeat([0, 1], 20)
    labeled = np.r_[0:20, 30:50]
    unlabeled = np.r_[20:30, 50:60]
    svm = LinearSVC().fit(X[labeled], y)
    picked = get_strategy("committee").query_features(svm, X, labeled, unlabeled, y, 3, seed=0)
    assert len(set(picked.tolist()) & set(unlabeled.tolist())) == 3
    with pytest.raises(ConfigError, match="predict_proba"):
        get_strategy("committee", disagreement="kl").query_features(
            svm, X, labeled, unlabeled, y, 3, seed=0
        )


def _pocket_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Class = sign(x1), except in a pocket (x3 = 5) where it is flipped: a linear head is
    confidently wrong there; elsewhere it is right, and uncertain only near x1 = 0."""
    rng = np.random.default_rng(0)

    def block(n: int, lo: float, hi: float, x3: float) -> np.ndarray:
        x1 = rng.uniform(lo, hi, n) * rng.choice([-1, 1], n)
        return np.stack([x1, rng.normal(0, 1, n), np.full(n, x3) + rng.normal(0, 0.1, n)], 1)

    lab_normal, lab_pocket = block(60, 1, 4, 0), block(12, 1, 4, 5)
    pool_pocket, pool_boundary, pool_far = (
        block(30, 1, 4, 5),
        block(30, 0.05, 0.5, 0),
        block(30, 2, 4, 0),
    )
    X = np.vstack([lab_normal, lab_pocket, pool_pocket, pool_boundary, pool_far])
    y_lab = np.r_[(lab_normal[:, 0] > 0).astype(int), (lab_pocket[:, 0] < 0).astype(int)]
    labeled = np.arange(72)
    pocket = np.arange(72, 102)
    unlabeled = np.arange(72, len(X))
    return X, y_lab, labeled, unlabeled, pocket


def test_active_transfer_ranks_the_region_where_the_head_is_wrong_first() -> None:
    X, y, labeled, unlabeled, pocket = _pocket_problem()
    model = LogisticRegression().fit(X[labeled], y)
    assert (model.predict(X[labeled][60:]) != y[60:]).mean() > 0.7  # wrong in the pocket
    picked = get_strategy("active-transfer").query_features(
        model, X, labeled, unlabeled, y, 10, seed=0
    )
    assert len(set(picked.tolist()) & set(pocket.tolist())) >= 9
    margin = get_strategy("margin").query_features(model, X, labeled, unlabeled, y, 10, seed=0)
    assert not set(margin.tolist()) & set(pocket.tolist())  # margin looks at the boundary


def test_active_transfer_falls_back_to_margin_when_nothing_is_wrong() -> None:
    X, model, labeled, unlabeled = _line_problem()
    y = [0, 0, 1, 1]
    at = get_strategy("active-transfer", n_folds=2).query_features(
        model, X, labeled, unlabeled, y, 4, seed=3
    )
    mg = get_strategy("margin").query_features(model, X, labeled, unlabeled, y, 4, seed=3)
    assert sorted(at.tolist()) == sorted(mg.tolist())


def test_cold_start_picks_one_representative_per_cluster() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [5, 20]], dtype=float)
    sizes = [40, 30, 20, 15, 10]
    X = np.vstack([rng.normal(c, 0.5, size=(s, 2)) for c, s in zip(centres, sizes, strict=True)])
    cluster = np.repeat(np.arange(5), sizes)
    picked = get_strategy("cold-start").query_features(
        None, X, [], np.arange(len(X)), [], 5, seed=0
    )
    assert sorted(cluster[picked].tolist()) == [0, 1, 2, 3, 4]
    assert cluster[picked[0]] == 0  # the largest cluster's representative first
    for i in picked:  # representative: closer to its cluster's centre than most members
        members = X[cluster == cluster[i]]
        d = np.linalg.norm(members - members.mean(axis=0), axis=1)
        assert np.linalg.norm(X[i] - members.mean(axis=0)) <= np.quantile(d, 0.25)


def test_random_is_seeded_and_distinct() -> None:
    X = np.zeros((100, 2))
    unlabeled = np.arange(10, 100)
    a = get_strategy("random").query_features(
        None, X, np.arange(10), unlabeled, np.zeros(10), 20, seed=5
    )
    b = get_strategy("random").query_features(
        None, X, np.arange(10), unlabeled, np.zeros(10), 20, seed=5
    )
    c = get_strategy("random").query_features(
        None, X, np.arange(10), unlabeled, np.zeros(10), 20, seed=6
    )
    assert a.tolist() == b.tolist() != c.tolist()
    assert len(set(a.tolist())) == 20 and a.min() >= 10


def test_subsample_scores_only_a_seeded_subset() -> None:
    X, model, labeled, unlabeled = _line_problem()
    y = [0, 0, 1, 1]
    inner = get_strategy("margin")
    big = Subsample("margin", size=1000)  # larger than the pool: same as the inner strategy
    assert (
        big.query_features(model, X, labeled, unlabeled, y, 3, seed=4).tolist()
        == inner.query_features(model, X, labeled, unlabeled, y, 3, seed=4).tolist()
    )
    small = get_strategy("subsample", base="margin", size=10)
    picked = small.query_features(model, X, labeled, unlabeled, y, 3, seed=4)
    rng = np.random.default_rng(4)
    subset = np.sort(rng.choice(unlabeled, size=10, replace=False))
    assert set(picked.tolist()) <= set(subset.tolist())
    assert (
        picked.tolist() == inner.query_features(model, X, labeled, subset, y, 3, seed=rng).tolist()
    )


@pytest.mark.parametrize("name", ALL)
def test_every_strategy_keeps_the_contract(name: str) -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(m, 1, size=(40, 4)) for m in (-2, 0, 2)])
    y_all = np.repeat([0, 1, 2], 40)
    labeled = np.r_[0:5, 40:45, 80:85]
    unlabeled = np.setdiff1d(np.arange(120), labeled)
    model = LogisticRegression().fit(X[labeled], y_all[labeled])
    strat = get_strategy(name)
    a = strat.query_features(model, X, labeled, unlabeled, y_all[labeled], 7, seed=11, n_classes=3)
    b = strat.query_features(model, X, labeled, unlabeled, y_all[labeled], 7, seed=11, n_classes=3)
    assert a.dtype == np.int64 and len(a) == 7 and len(set(a.tolist())) == 7
    assert not set(a.tolist()) & set(labeled.tolist())
    assert a.tolist() == b.tolist()  # same seed, same batch
    assert get_strategy(strat.spec()["name"], **strat.spec()["params"]) == strat


def test_registry_names_aliases_and_listing() -> None:
    assert {
        "random",
        "least-confidence",
        "margin",
        "entropy",
        "committee",
        "kcenter",
        "badge",
        "cluster-margin",
        "typiclust",
        "typiclust-margin",
        "active-transfer",
        "cold-start",
        "subsample",
    } <= set(STRATEGIES)
    assert isinstance(get_strategy("Least_Confidence"), QueryStrategy)
    assert get_strategy("qbc").name == "committee"
    assert get_strategy("coreset").name == "kcenter"
    infos = {i.name: i for i in list_strategies()}
    assert infos["margin"].category == "uncertainty" and infos["margin"].needs_proba
    assert infos["badge"].category == "hybrid" and infos["kcenter"].needs_model is False
    assert all(i.description for i in infos.values())


def test_bad_names_and_parameters() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean: margin"):
        get_strategy("margn")
    with pytest.raises(ConfigError, match="n_members"):
        get_strategy("margin", n_members=3)
    with pytest.raises(ConfigError, match="'kl' or 'vote'"):
        get_strategy("committee", disagreement="max")


def test_bad_query_inputs() -> None:
    X, model, labeled, unlabeled = _line_problem()
    y = [0, 0, 1, 1]
    margin = get_strategy("margin")
    with pytest.raises(ConfigError, match="at least 1"):
        margin.query_features(model, X, labeled, unlabeled, y, 0)
    with pytest.raises(ConfigError, match="only 57 unlabeled"):
        margin.query_features(model, X, labeled, unlabeled, y, 58)
    with pytest.raises(DataFormatError, match="both"):
        margin.query_features(model, X, labeled, np.r_[unlabeled, 0], y, 2)
    with pytest.raises(DataFormatError, match="outside"):
        margin.query_features(model, X, labeled, [61], y, 1)
    with pytest.raises(DataFormatError, match="labels"):
        margin.query_features(model, X, labeled, unlabeled, [0, 1], 1)
    with pytest.raises(ConfigError, match="needs the current model"):
        margin.query_features(None, X, labeled, unlabeled, y, 1)
    with pytest.raises(DataFormatError, match="2-D"):
        margin.query_features(model, X[:, 0], labeled, unlabeled, y, 1)


@pytest.mark.parametrize(
    "name",
    [
        "least-confidence",
        "margin",
        "entropy",
        "badge",
        "cluster-margin",
        "typiclust-margin",
        "active-transfer",
    ],
)
def test_probability_strategies_reject_a_head_without_predict_proba(name: str) -> None:
    X, _, labeled, unlabeled = _line_problem()
    svm = LinearSVC().fit(X[labeled], [0, 0, 1, 1])
    with pytest.raises(ConfigError, match="no predict_proba"):
        get_strategy(name).query_features(svm, X, labeled, unlabeled, [0, 0, 1, 1], 2, n_classes=2)


def test_member_clone_reuses_the_c_a_cv_head_chose() -> None:
    from littledata.active.strategies import member_clone
    from littledata.heads import make_head

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    head = make_head("logreg").fit(X, y)
    assert head.cv_used_
    copy = member_clone(head).fit(X, y)
    assert not copy.cv_used_ and copy.C_ == head.C_  # one plain fit at the chosen C
    plain = member_clone(LogisticRegression(C=3.0))
    assert plain.get_params() == LogisticRegression(C=3.0).get_params()


# -- the query context --------------------------------------------------------------------------


def _three_blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(m, 1, size=(40, 4)) for m in (-2, 0, 2)])
    y_all = np.repeat([0, 1, 2], 40)
    labeled = np.r_[0:5, 40:45, 80:85]
    return X, y_all, labeled, np.setdiff1d(np.arange(120), labeled)


@pytest.mark.parametrize("name", ALL)
def test_every_strategy_reads_features_only_through_embed(name: str) -> None:
    """A context whose ``embed`` is any callable (as a fine-tuned encoder's would be) gives the
    same batch as the fixed matrix: strategies see the pool only through the context."""
    X, y_all, labeled, unlabeled = _three_blobs()
    model = LogisticRegression().fit(X[labeled], y_all[labeled])
    asked: list[int] = []

    def embed(rows: np.ndarray) -> np.ndarray:
        asked.append(len(rows))
        return X[rows]

    common = {"model": model, "n_pool": len(X), "labeled": labeled, "unlabeled": unlabeled}
    common |= {"y": y_all[labeled], "n": 6, "n_classes": 3}
    fixed = QueryContext(embed=FixedFeatures(X), rng=np.random.default_rng(5), **common)
    plain = QueryContext(embed=embed, rng=np.random.default_rng(5), **common)
    expected = get_strategy(name).query(fixed)
    assert get_strategy(name).query(plain).tolist() == expected.tolist()
    assert bool(asked) == (name != "random")  # random needs no features


def test_context_checks_its_fields_once() -> None:
    X, y_all, labeled, unlabeled = _three_blobs()
    ctx = QueryContext.from_features(None, X, labeled, unlabeled, y_all[labeled], 3, seed=1)
    assert ctx.n_pool == 120 and ctx.labeled.dtype == np.int64 and ctx.task == "single-label"
    assert isinstance(ctx.rng, np.random.Generator) and ctx.pool_features() is X
    np.testing.assert_array_equal(ctx.embed(np.array([3, 1])), X[[3, 1]])
    with pytest.raises(ConfigError, match="at least 1"):
        ctx.replace(n=0)
    with pytest.raises(DataFormatError, match="in both"):
        ctx.replace(unlabeled=np.r_[unlabeled, labeled[0]])
    with pytest.raises(ConfigError, match="Unknown task 'token-labeling'"):
        ctx.replace(task="token-labeling")
    with pytest.raises(ConfigError, match="no predict_proba"):
        ctx.replace(model=LinearSVC().fit(X[labeled], y_all[labeled])).proba(unlabeled, "margin")
    with pytest.raises(ConfigError, match="needs the current model"):
        get_strategy("margin").query(ctx)
    assert len(get_strategy("kcenter").query(ctx)) == 3  # no model needed


def test_composites_call_the_public_query() -> None:
    """Wrappers and hybrids go through ``query(ctx)``: a strategy that overrides it is honoured."""
    X, y_all, labeled, unlabeled = _three_blobs()
    seen: list[QueryContext] = []

    class Spy(QueryStrategy):
        needs_model = False

        def query(self, ctx: QueryContext) -> np.ndarray:
            seen.append(ctx)
            return ctx.unlabeled[: ctx.n]

    wrapped = Subsample(Spy(), size=10)
    picked = wrapped.query_features(None, X, labeled, unlabeled, y_all[labeled], 4, seed=2)
    assert len(seen) == 1 and len(seen[0].unlabeled) == 10
    assert picked.tolist() == seen[0].unlabeled[:4].tolist()

    model = LogisticRegression().fit(X[labeled], y_all[labeled])
    strat = get_strategy("typiclust-margin", per_class=1)  # 15 labels >= 3: the margin phase
    ctx = QueryContext.from_features(
        model, X, labeled, unlabeled, y_all[labeled], 4, seed=2, n_classes=3
    )
    strat._margin = Spy()  # type: ignore[assignment]
    assert strat.query(ctx).tolist() == unlabeled[:4].tolist() and seen[-1] is ctx


def test_all_strategies_come_from_the_ranking_categories() -> None:
    """The command line's ``all`` and the benchmark's defaults follow the registry's categories:
    a new strategy joins them by its category alone."""
    from littledata.active.strategies import RANKING_CATEGORIES, STRATEGIES, register_strategy
    from littledata.cli.active import _strategy_names

    @register_strategy("toy-ranker", category="uncertainty")
    class ToyRanker(QueryStrategy):
        needs_model = False

    @register_strategy("toy-first-batch", category="cold-start")
    class ToyFirst(QueryStrategy):
        needs_model = False

    try:
        names = _strategy_names(["all"])
        assert "toy-ranker" in names and "toy-first-batch" not in names
        assert "subsample" not in names and "cold-start" not in names
        assert set(names) == {n for n in STRATEGIES if STRATEGIES[n].category in RANKING_CATEGORIES}
    finally:
        STRATEGIES.remove("toy-ranker")
        STRATEGIES.remove("toy-first-batch")
    assert "typiclust" in _strategy_names(["all"]) and "kcenter" in _strategy_names(["all"])
