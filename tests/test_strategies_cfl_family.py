"""CFL, FeSEM and FedGroup against hand-derived numbers on a numpy fake engine (PACFL:
test_strategies_pacfl.py), and loop invariants of all four."""

from __future__ import annotations

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, tiny_dataset
from strategy_support import same_partition, subspace_clients, two_group_targets

from fedcore.clustering.geometry import (
    cosine_similarity_matrix,
    kmeans_plus_plus,
)
from fedcore.errors import ConfigError
from fedcore.strategies.cfl import CFL, bipartition
from fedcore.strategies.fedgroup import FedGroup, edc_representation
from fedcore.strategies.fesem import FeSEM, e_step, m_step
from fedcore.strategies.pacfl import PACFL

OPPOSITE = np.array([[2.0, 0.0], [2.0, 0.0], [-2.0, 0.5], [-2.0, -0.5]])


def test_cfl_weighted_fedavg_of_updates_before_warmup():
    offsets = np.array([[1.0, 0.0], [3.0, 1.0], [0.0, 2.0], [-1.0, 0.0]])
    engine = FakeEngine(offsets=offsets, num_examples=[1, 3, 2, 2],
                        initial=np.array([10.0, -10.0]))
    strategy = CFL(criterion="absolute", warmup_rounds=10)
    state, hist = run_rounds(strategy, make_context(engine), 2)
    # round update = (1*[1,0] + 3*[3,1] + 2*[0,2] + 2*[-1,0]) / 8 = [8, 7] / 8
    np.testing.assert_allclose(state.models[0], [10 + 2 * 1.0, -10 + 2 * 7 / 8], atol=1e-5)
    assert hist[0]["diagnostics"]["mean_norm"][0] == pytest.approx(np.hypot(1.0, 7 / 8))
    assert hist[0]["diagnostics"]["max_norm"][0] == pytest.approx(np.hypot(3.0, 1.0))
    assert hist[0]["diagnostics"]["n_splits"] == 0


def test_cfl_splits_opposite_updates_and_each_half_gets_its_mean_update():
    engine = FakeEngine(offsets=OPPOSITE, initial=np.array([1.0, 1.0]))
    strategy = CFL(criterion="absolute", eps1=0.4, eps2=1.6, warmup_rounds=1)
    state, hist = run_rounds(strategy, make_context(engine), 2)
    assert hist[0]["diagnostics"]["n_splits"] == 0  # warm-up round
    # round 1: mean update [0, 0] -> model unchanged
    np.testing.assert_allclose(hist[0]["models"][0], [1.0, 1.0], atol=1e-6)
    d = hist[1]["diagnostics"]
    assert d["split"] == [(0, 1)]
    np.testing.assert_array_equal(state.assignments, [0, 0, 1, 1])
    np.testing.assert_allclose(state.models[0], [3.0, 1.0], atol=1e-6)  # 1 + 2, 1 + 0
    np.testing.assert_allclose(state.models[1], [-1.0, 1.0], atol=1e-6)  # mean of halves
    assert d["max_cross_similarity"][0] == pytest.approx(-2 / np.hypot(2, 0.5) * 2 / 2)
    # once split, both halves are homogeneous: no further split
    state, hist = run_rounds(strategy, make_context(engine), 5)
    assert len(state.models) == 2


@pytest.mark.parametrize("eps1, eps2, splits", [
    (0.01, 1.6, True),     # mean norm is 0: always below eps1 > 0
    (0.0, 1.6, False),     # ... but not below 0
    (0.4, 2.05, True),     # max norm = |(-2, 0.5)| = 2.0616 > 2.05
    (0.4, 2.07, False),    # ... not > 2.07
])
def test_cfl_split_rule_is_exactly_the_two_thresholds(eps1, eps2, splits):
    engine = FakeEngine(offsets=OPPOSITE)
    strategy = CFL(criterion="absolute", eps1=eps1, eps2=eps2, warmup_rounds=0)
    state, hist = run_rounds(strategy, make_context(engine), 1)
    assert (hist[0]["diagnostics"]["n_splits"] == 1) is splits
    assert len(state.models) == (2 if splits else 1)


def test_cfl_relative_criterion_uses_first_round_scale():
    engine = FakeEngine(offsets=OPPOSITE * 100.0)  # scale-free: same decision as OPPOSITE
    strategy = CFL(criterion="relative", relative_eps1=0.4, relative_eps2=0.6,
                   warmup_rounds=1)
    state, hist = run_rounds(strategy, make_context(engine), 2)
    assert hist[0]["diagnostics"]["norm_scale"][0] == pytest.approx(100 * np.hypot(2, 0.5))
    assert hist[1]["diagnostics"]["split"] == [(0, 1)]
    # absolute thresholds at the paper's values would split too (huge max norm)...
    strict = CFL(criterion="absolute", eps1=0.4, eps2=1e6, warmup_rounds=1)
    assert len(run_rounds(strict, make_context(engine), 2)[0].models) == 1


def test_cfl_min_cluster_size_and_max_clusters_block_splits():
    engine = FakeEngine(offsets=OPPOSITE)
    for kwargs in ({"min_cluster_size": 3}, {"max_clusters": 1}, {"max_cross_similarity": -0.99}):
        strategy = CFL(criterion="absolute", warmup_rounds=0, **kwargs)
        assert len(run_rounds(strategy, make_context(engine), 3)[0].models) == 1, kwargs


def test_cfl_recovers_two_groups_with_least_squares_clients_and_ignores_diverged():
    targets, groups = two_group_targets(n_per_group=5)
    engine = FakeEngine(targets=targets, step=0.5, diverged=[9])
    state, hist = run_rounds(CFL(warmup_rounds=3), make_context(engine), 8)
    assert same_partition(state.assignments[:9], groups[:9])
    assert state.assignments[9] == state.assignments[0]  # diverged: stays with the parent key
    assert sum(h["diagnostics"]["n_splits"] for h in hist) == 1
    assert np.isfinite(np.stack(list(state.models.values()))).all()


def test_cfl_bipartition_and_similarity():
    u = np.array([[1.0, 0.0], [2.0, 0.1], [-1.0, 0.0], [-3.0, 0.2], [0.0, 0.0]])
    s = cosine_similarity_matrix(u)
    assert s[0, 1] == pytest.approx(2 / np.hypot(2, 0.1))
    assert s[4].tolist() == [0.0] * 5
    np.testing.assert_array_equal(bipartition(s[:4, :4]), [False, False, True, True])


def test_cfl_rejects_unknown_params():
    with pytest.raises(ConfigError):
        CFL(eps3=1.0)
    with pytest.raises(ConfigError):
        CFL(criterion="fuzzy")


# ---------------------------------------------------------------------------------- FeSEM
def test_fesem_e_and_m_steps_by_hand():
    centres = {0: np.array([0.0, 0.0], dtype=np.float32), 1: np.array([10.0, 0.0], np.float32),
               2: np.array([50.0, 50.0], np.float32)}
    local = np.array([[1.0, 0.0], [9.0, 0.0], [2.0, 1.0], [11.0, 3.0]], dtype=np.float32)
    keys, dist = e_step(local, centres)
    np.testing.assert_array_equal(keys, [0, 1, 0, 1])
    assert dist[2, 1] == pytest.approx(np.hypot(8, 1))
    plain = m_step(keys, local, np.array([1, 1, 3, 1]), centres, "uniform")
    np.testing.assert_allclose(plain[0], [1.5, 0.5])
    np.testing.assert_allclose(plain[1], [10.0, 1.5])
    np.testing.assert_allclose(plain[2], [50.0, 50.0])  # empty centre keeps its weights
    weighted = m_step(keys, local, np.array([1, 1, 3, 1]), centres, "examples")
    np.testing.assert_allclose(weighted[0], [(1 + 6) / 4, 3 / 4])


def test_fesem_kmeans_plus_plus_is_seeded_and_spreads():
    pts = np.array([[0.0, 0], [0.1, 0], [100, 0], [100.1, 0]])
    a = kmeans_plus_plus(pts, 2, np.random.default_rng(3))
    b = kmeans_plus_plus(pts, 2, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert {int(i) // 2 for i in a} == {0, 1}  # one seed per far-apart pair


def test_fesem_recovers_two_groups_and_centres_are_member_means():
    targets, groups = two_group_targets(n_per_group=4)
    engine = FakeEngine(targets=targets, step=1.0)  # local model == target
    strategy = FeSEM(n_clusters=2, warmup_rounds=1)
    state, hist = run_rounds(strategy, make_context(engine, seed=5), 3)
    assert hist[0]["diagnostics"]["phase"] == "warmup"
    np.testing.assert_allclose(hist[0]["models"][0], targets.mean(0), atol=1e-5)
    assert same_partition(state.assignments, groups)
    for key in state.models:
        np.testing.assert_allclose(state.models[key],
                                   targets[state.assignments == key].mean(0), atol=1e-5)
    assert hist[1]["diagnostics"]["distance"].shape == (8, 2)


def test_fesem_is_deterministic_given_the_seed():
    targets, _ = two_group_targets(n_per_group=6, noise=1.0, seed=1)
    runs = [run_rounds(FeSEM(n_clusters=3, init="random_clients", warmup_rounds=0),
                       make_context(FakeEngine(targets=targets), seed=s), 4)[0].assignments
            for s in (7, 7)]
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("init", ["kmeans", "kmeans++", "random_clients"])
def test_fesem_every_init_is_deterministic_and_seeds_from_local_models(init):
    targets, groups = two_group_targets(n_per_group=4, noise=0.01)
    runs = []
    for _ in range(2):
        engine = FakeEngine(targets=targets, step=1.0)
        state, hist = run_rounds(FeSEM(n_clusters=2, warmup_rounds=0, init=init),
                                 make_context(engine, seed=3), 2)
        runs.append(state.assignments)
        seeds = hist[0]["diagnostics"]["seed_clients"]
        assert (seeds is None) == (init == "kmeans")
        if init == "kmeans++":  # D^2 sampling: the second seed is in the other, far group
            assert len(set(groups[seeds].tolist())) == 2
    np.testing.assert_array_equal(runs[0], runs[1])
    if init != "random_clients":
        assert same_partition(runs[0], groups)


# ---------------------------------------------------------------------------------- FedGroup
def test_fedgroup_edc_of_two_clear_directions():
    u = np.array([[3.0, 0, 0], [1.0, 0, 0], [0, 2.0, 0], [0, 5.0, 0]])
    edc = edc_representation(u, 2)
    # the e2 block carries more energy (29 > 10): first direction is +-e2, second +-e1
    np.testing.assert_allclose(np.abs(edc), [[0, 1], [0, 1], [1, 0], [1, 0]], atol=1e-9)


def test_fedgroup_cold_start_groups_newcomers_and_models_by_hand():
    targets, groups = two_group_targets(n_per_group=4)
    engine = FakeEngine(targets=targets, step=0.5, num_examples=[1, 2, 3, 4, 1, 1, 1, 1])
    strategy = FedGroup(n_clusters=2, pretrain_scale=3)  # 6 of 8 clustered, 2 newcomers
    state, hist = run_rounds(strategy, make_context(engine, seed=2), 1)
    d = hist[0]["diagnostics"]
    assert len(d["clustered_clients"]) == 6
    assert same_partition(state.assignments, groups)
    for key in state.models:  # plain mean of the clustered members' pre-trained models
        members = np.intersect1d(np.flatnonzero(state.assignments == key), d["clustered_clients"])
        np.testing.assert_allclose(state.models[key], 0.5 * targets[members].mean(0), atol=1e-5)
    # round 2: weighted FedAvg inside each group
    state, hist = run_rounds(strategy, make_context(engine, seed=2), 2)
    g = state.assignments[0]
    members = np.flatnonzero(state.assignments == g)
    start = hist[0]["models"][g].astype(np.float64)
    local = targets[members] + 0.5 * (start - targets[members])
    n = engine.sizes[members]
    np.testing.assert_allclose(state.models[g], n @ local / n.sum(), atol=1e-5)


def test_fedgroup_migration_moves_a_client_that_changed_concept():
    targets, groups = two_group_targets(n_per_group=4, noise=0.0)
    results = {}
    for mode in ("off", "on"):
        strategy = FedGroup(n_clusters=2, migration=mode)
        engine = FakeEngine(targets=targets, step=0.5)

        def concept_change(r, engine=engine):
            if r == 3:
                engine.targets[0] = -targets[0]  # client 0 now behaves like group 1

        state, hist = run_rounds(strategy, make_context(engine, seed=0), 3, concept_change)
        results[mode] = (state.assignments.copy(), hist[-1]["diagnostics"]["migrated"])
    assert results["off"][0][0] == results["off"][0][1]
    assert results["on"][0][0] == results["on"][0][4]
    assert results["on"][1] == [(0, int(results["off"][0][0]), int(results["on"][0][4]))]


def test_fedgroup_is_deterministic_given_the_seed():
    targets, _ = two_group_targets(n_per_group=6, noise=1.0, seed=4)
    runs = [run_rounds(FedGroup(n_clusters=3, pretrain_scale=1),
                       make_context(FakeEngine(targets=targets), seed=11), 2)[0].assignments
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


# ---------------------------------------------------------------------------------- all four
@pytest.mark.parametrize("make", [
    lambda: CFL(warmup_rounds=1),
    lambda: FeSEM(n_clusters=2),
    lambda: FedGroup(n_clusters=2, migration="on"),
    lambda: PACFL(n_clusters=2),
])
def test_partial_participation_and_divergence_keep_the_loop_invariants(make):
    targets, groups = two_group_targets(n_per_group=4)
    xs, ys, _ = subspace_clients(n_per_group=4)
    engine = FakeEngine(targets=targets, step=0.5, diverged=[3])
    dataset = tiny_dataset(8, xs, ys)
    runs = [run_rounds(make(), make_context(engine, dataset=dataset, seed=1, fraction_fit=0.5), 6)
            for _ in range(2)]
    (state, hist), (state2, _) = runs
    assert all(np.isfinite(m).all() for m in state.models.values())
    np.testing.assert_array_equal(state.assignments, state2.assignments)  # same seed, same run
    assert any(len(h["models"]) >= 2 for h in hist)


@pytest.mark.parametrize("make", [lambda: FeSEM(n_clusters=2, warmup_rounds=0),
                                  lambda: FedGroup(n_clusters=2)])
def test_clustering_round_is_retried_when_every_client_diverged(make):
    targets, groups = two_group_targets(n_per_group=3)
    engine = FakeEngine(targets=targets, step=0.5, diverged=range(6))
    ctx = make_context(engine)

    def heal_after_round_1(r):
        if r == 2:
            engine.diverged = set()

    state, hist = run_rounds(make(), ctx, 2, heal_after_round_1)
    for h in hist:  # the clustering round always includes everybody
        assert len(h["record"].plan.fit.clients) == 6
    assert same_partition(state.assignments, groups)
    assert all(np.isfinite(m).all() for m in state.models.values())

