"""Paper rules shared across methods: FL+HC's threshold, warm-up counting, K estimation."""

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, two_group_dataset
from sklearn.metrics import adjusted_rand_score

from fedcore.config import SimulationConfig
from fedcore.metrics import estimated_k
from fedcore.simulation import run_simulation
from fedcore.strategies import STRATEGIES


def fixed_update_engine(centres, per_group, noise, seed=0):
    """Clients whose update is a fixed offset: group centre + seeded noise."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(centres)), per_group)
    offsets = np.asarray(centres, dtype=float)[groups] + rng.normal(0, noise,
                                                                   (len(groups), len(centres[0])))
    return FakeEngine(offsets=offsets), groups


def one_shot_labels(method, engine, **params):
    strategy = STRATEGIES[method](warmup_rounds=0, **params)
    state, hist = run_rounds(strategy, make_context(engine), 1)
    return state.assignments, hist[0]["diagnostics"]


def test_flhc_threshold_one_means_one_cluster_for_100_iid_clients():
    engine, _ = fixed_update_engine(np.zeros((1, 30)), 100, noise=1.0)
    labels, diag = one_shot_labels("flhc", engine, n_clusters=0, distance_threshold=1.0)
    assert len(np.unique(labels)) == 1
    labels, _ = one_shot_labels("flhc", engine, n_clusters=0, distance_threshold=0.99)
    assert len(np.unique(labels)) == 2  # just below the top merge: the top split is undone


def test_flhc_threshold_half_separates_two_clean_groups_of_25():
    centres = np.zeros((2, 30))
    centres[0, 0], centres[1, 0] = 10.0, -10.0
    engine, groups = fixed_update_engine(centres, 25, noise=1.0)
    labels, diag = one_shot_labels("flhc", engine, n_clusters=0, distance_threshold=0.5)
    assert adjusted_rand_score(groups, labels) == 1.0
    # the absolute height recorded is the Clusters page's cut for the same tree
    from fedcore.clustering.estimators import LinkageClustering
    tree = LinkageClustering(linkage="ward", n_clusters=1).fit(engine.offsets)
    assert diag["distance_threshold"] == pytest.approx(0.5 * tree.linkage_matrix_[-1, 2])
    page = LinkageClustering(linkage="ward", n_clusters=None,
                             distance_threshold=diag["distance_threshold"]).fit(engine.offsets)
    assert adjusted_rand_score(page.labels_, labels) == 1.0


WARMUP = {"flhc": {"n_clusters": 2}, "kmeans": {"n_clusters": 2},
          "fesem": {"n_clusters": 2, "init": "kmeans"},
          "cfl": {}, "ifca": {"n_clusters": 2, "estimate_k": True},
          "fedgroup": {"n_clusters": 2, "estimate_k": True}}


@pytest.mark.parametrize("method", sorted(WARMUP))
@pytest.mark.parametrize("warmup", [1, 2])
def test_warmup_rounds_means_n_full_fedavg_rounds_for_every_method(method, warmup):
    """Rounds 1..N: one model, everybody in it, the model = FedAvg of all local models."""
    ds, engine = two_group_dataset(n_per_group=4)
    strategy = STRATEGIES[method](warmup_rounds=warmup, **WARMUP[method])
    state, hist = run_rounds(strategy, make_context(engine, dataset=ds), warmup + 1)
    sizes = engine.sizes
    model = np.zeros(engine.n_params)
    for r in range(warmup):
        assert hist[r]["assignments"].tolist() == [0] * ds.n_clients, (method, r)
        assert list(hist[r]["models"]) == [0], (method, r)
        local = engine.targets + 0.5 * (model - engine.targets)
        model = (sizes[:, None] * local).sum(0) / sizes.sum()
        np.testing.assert_allclose(hist[r]["models"][0], model, rtol=1e-4, atol=1e-5)
    # round N+1 starts from the N-round global model for everybody and clusters
    start, clients = engine.calls[warmup]
    np.testing.assert_allclose(start, np.broadcast_to(model, start.shape), rtol=1e-4, atol=1e-5)
    if method != "cfl":
        assert len(np.unique(hist[warmup]["assignments"])) == 2, method


@pytest.mark.parametrize("method", ["flhc", "kmeans", "fesem", "ifca", "fedgroup"])
def test_every_method_needing_k_declares_the_fixed_estimation_params(method):
    schema = STRATEGIES[method].param_schema
    assert schema["estimate_k"].default is False and schema["max_clusters"].default == 10


@pytest.mark.parametrize("method", ["flhc", "kmeans", "fesem", "ifca", "fedgroup"])
@pytest.mark.parametrize("n_groups", [1, 2, 4])
def test_estimate_k_finds_the_number_of_groups_from_updates_only(method, n_groups):
    rng = np.random.default_rng(n_groups)
    per = 8 if n_groups > 1 else 24
    centres = np.eye(12)[:n_groups] * 6.0 if n_groups > 1 else np.ones((1, 12))
    groups = np.repeat(np.arange(n_groups), per)
    targets = centres[groups] + rng.normal(0, 0.5, (len(groups), 12))
    engine = FakeEngine(targets=targets, step=0.5)
    ds = two_group_dataset(n_per_group=len(groups) // 2)[0]
    ds.true_groups = None  # the estimate may not peek at true groups
    # fresh centres / random models may merge groups: that is the method, not the estimate
    extra = {"fesem": {"init": "kmeans"}, "ifca": {"n_init": 10}}.get(method, {})
    result = run_simulation(ds, STRATEGIES[method](estimate_k=True, n_clusters=7,
                                                   warmup_rounds=1, **extra),
                            SimulationConfig(rounds=6), engine=engine)
    estimates = [d["estimated_k"] for d in result.diagnostics if d.get("estimated_k")]
    assert estimates == [n_groups], (method, estimates)
    assert estimated_k(result.diagnostics) == n_groups  # what summary.json records
    assert len(np.unique(result.assignments)) == n_groups
    if n_groups > 1:
        assert adjusted_rand_score(groups, result.assignments) == 1.0


def test_fesem_default_starts_from_k_fresh_seeded_centre_models():
    from fedcore.strategies.fesem import FeSEM
    ds, engine = two_group_dataset(n_per_group=4)
    assert FeSEM().params["init"] == "fresh"
    state, hist = run_rounds(FeSEM(n_clusters=3, warmup_rounds=0), make_context(engine, ds), 1)
    rng = np.random.default_rng([0, 7])  # the context's strategy rng, untouched before seeding
    centres = [engine.initial_weights(seed=int(rng.integers(2**31 - 1))) for _ in range(3)]
    local = engine.targets + 0.5 * (0 - engine.targets)  # round 1 from the zero model
    expected = np.sqrt(((local[:, None, :] - np.stack(centres)[None]) ** 2).sum(-1))
    np.testing.assert_allclose(hist[0]["diagnostics"]["distance"], expected, rtol=1e-5)
    assert hist[0]["diagnostics"]["seed_clients"] is None
    assert len({c.tobytes() for c in centres}) == 3
    again, _ = run_rounds(FeSEM(n_clusters=3, warmup_rounds=0), make_context(engine, ds), 1)
    assert (again.assignments == state.assignments).all()


# ---------------------------------------------------------------------------------- IFCA
def ifca_state(models, n_clients):
    from fedcore.strategies.base import ServerState
    from fedcore.strategies.ifca import IFCAState
    return ServerState(models={k: np.asarray(v, dtype=np.float32) for k, v in models.items()},
                       assignments=np.zeros(n_clients, dtype=np.int64),
                       private=IFCAState(len(models)))


def test_ifca_chooses_on_the_train_split_not_the_test_split():
    from fedcore.strategies.ifca import IFCA
    # train reference 0, test reference 0 - 1 = -1: model 0.4 wins on train, -0.5 on test
    engine = FakeEngine(targets=np.zeros((3, 1)), test_shift=-1.0)
    ctx = make_context(engine)
    state = ifca_state({0: [0.4], 1: [-0.5]}, 3)
    plan = IFCA(n_clusters=2).configure_fit(1, state, ctx)
    assert plan.start_keys.tolist() == [0, 0, 0]
    np.testing.assert_allclose(plan.diagnostics["loss_matrix"][:, 0], [0.08, 0.125])


@pytest.mark.parametrize("weighting, expected", [
    ("uniform", [(1.0 + 3.0) / 2, (5.0 + 7.0) / 2]),
    ("examples", [(1 * 1.0 + 3 * 3.0) / 4, (2 * 5.0 + 2 * 7.0) / 4])])
def test_ifca_aggregation_by_hand(weighting, expected):
    from fedcore.rounds import run_round
    from fedcore.strategies.ifca import IFCA
    # step 1: a client's local model is its target. Clients 0,1 near model 0, 2,3 near 1.
    targets = np.array([[1.0], [3.0], [5.0], [7.0]])
    engine = FakeEngine(targets=targets, step=1.0, num_examples=[1, 3, 2, 2])
    ctx = make_context(engine)
    state = ifca_state({0: [2.0], 1: [6.0]}, 4)
    state, record = run_round(IFCA(n_clusters=2, weighting=weighting), state, ctx, 1)
    assert record.assignments.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose([state.models[0][0], state.models[1][0]], expected)


def test_ifca_initial_models_are_distinct_seeded_draws():
    from fedcore.strategies.ifca import IFCA
    ds, engine = two_group_dataset(n_per_group=3)
    a = IFCA(n_clusters=3).initialize(make_context(engine, ds, seed=4))
    b = IFCA(n_clusters=3).initialize(make_context(engine, ds, seed=4))
    c = IFCA(n_clusters=3).initialize(make_context(engine, ds, seed=5))
    assert len({m.tobytes() for m in a.models.values()}) == 3
    np.testing.assert_array_equal(a.models[0], engine.initial_weights())  # the run's init
    for k in a.models:
        np.testing.assert_array_equal(a.models[k], b.models[k])
    assert not np.array_equal(a.models[1], c.models[1])
    assert IFCA().params["weighting"] == "uniform" and IFCA().params["n_init"] == 1


def test_ifca_restarts_escape_a_merged_local_minimum():
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(4), 8)
    targets = (np.eye(12)[:4] * 6.0)[groups] + rng.normal(0, 0.5, (32, 12))
    engine = FakeEngine(targets=targets, step=0.5)
    ds = two_group_dataset(n_per_group=16)[0]
    aris = {}
    for n_init in (1, 10):
        result = run_simulation(ds, STRATEGIES["ifca"](n_clusters=4, n_init=n_init),
                                SimulationConfig(rounds=6, seed=1), engine=engine)
        aris[n_init] = adjusted_rand_score(groups, result.assignments)
    assert aris[10] == 1.0 and aris[1] < 1.0, aris
