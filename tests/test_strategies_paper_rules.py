"""Paper rules shared across methods: FL+HC's threshold, warm-up counting, K estimation."""

import numpy as np
import pytest
from fake_engine import FakeEngine, make_context, run_rounds, two_group_dataset
from sklearn.metrics import adjusted_rand_score

from fedcore.config import SimulationConfig
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
    extra = {"init": "kmeans"} if method == "fesem" else {}  # fresh centres may collapse
    result = run_simulation(ds, STRATEGIES[method](estimate_k=True, n_clusters=7,
                                                   warmup_rounds=1, **extra),
                            SimulationConfig(rounds=6), engine=engine)
    estimates = [d["estimated_k"] for d in result.diagnostics if d.get("estimated_k")]
    assert estimates == [n_groups], (method, estimates)
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
