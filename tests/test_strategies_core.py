"""FedAvg, local-only, oracle, one-shot clustering and IFCA on the numpy fake engine."""

import numpy as np
import pytest
from fake_engine import two_group_dataset
from sklearn.metrics import adjusted_rand_score

from fedcore.config import SimulationConfig
from fedcore.errors import ConfigError
from fedcore.simulation import run_simulation
from fedcore.strategies import STRATEGIES
from fedcore.strategies.base import weighted_average_by_key


def simulate(method, rounds=3, ds_engine=None, **params):
    ds, engine = ds_engine or two_group_dataset()
    result = run_simulation(ds, STRATEGIES[method](**params), SimulationConfig(rounds=rounds),
                            engine=engine)
    return ds, engine, result


def test_fedavg_is_the_size_weighted_mean_of_local_models():
    ds, engine = two_group_dataset(sizes=[1, 2, 3, 1, 2, 3])
    _, _, res = simulate("fedavg", rounds=1, ds_engine=(ds, engine))
    local = 0.5 * engine.targets  # start is the zero vector
    expected = (np.array([1, 2, 3, 1, 2, 3])[:, None] * local).sum(0) / 12
    np.testing.assert_allclose(res.models[0], expected, rtol=1e-5)  # float32 aggregation
    assert set(res.assignments) == {0}


def test_weighted_average_skips_diverged_clients_and_keeps_empty_keys():
    w = np.array([[1.0, 1.0], [3.0, 3.0], [np.nan, np.nan]], dtype=np.float32)
    out = weighted_average_by_key(np.array([0, 0, 1]), w, np.array([1, 3, 5]),
                                  np.array([True, True, False]),
                                  previous={0: np.zeros(2), 1: np.full(2, 7.0)})
    np.testing.assert_allclose(out[0], [2.5, 2.5])
    np.testing.assert_allclose(out[1], [7.0, 7.0])


def test_diverged_client_is_reported_not_averaged():
    ds, engine = two_group_dataset()
    engine.diverged = {1}
    _, _, res = simulate("fedavg", rounds=2, ds_engine=(ds, engine))
    assert np.isfinite(res.models[0]).all()
    assert res.client_metrics["nonfinite"].tolist() == [False, True, False, False, False, False]
    assert any("'c1' diverged" in e for e in res.errors)
    assert res.rounds["n_nonfinite"].tolist() == [1, 1]


def test_local_only_keeps_each_clients_own_model():
    ds, engine, res = simulate("local", rounds=2)
    # Two halving steps from 0: w = 0.75 * target.
    for i in range(ds.n_clients):
        np.testing.assert_allclose(res.models[i], 0.75 * engine.targets[i], rtol=1e-6)
    assert res.assignments.tolist() == list(range(ds.n_clients))


def test_local_only_diverged_client_keeps_its_model_and_runs_are_deterministic():
    ds, engine = two_group_dataset()
    engine.diverged = {2}
    _, _, res = simulate("local", rounds=2, ds_engine=(ds, engine))
    np.testing.assert_array_equal(res.models[2], np.zeros(3, dtype=np.float32))
    np.testing.assert_allclose(res.models[1], 0.75 * engine.targets[1], rtol=1e-6)
    again = simulate("local", rounds=2, ds_engine=(ds, engine))[2]
    for k in res.models:
        np.testing.assert_array_equal(res.models[k], again.models[k])


def test_oracle_averages_within_true_groups():
    ds, engine, res = simulate("oracle", rounds=1)
    for g in (0, 1):
        sel = ds.true_groups == g
        n = engine.sizes[sel][:, None]
        np.testing.assert_allclose(res.models[g], (n * 0.5 * engine.targets[sel]).sum(0) / n.sum(),
                                   rtol=1e-5)


def test_oracle_without_truth_is_a_clear_config_error():
    ds, engine = two_group_dataset()
    ds.true_groups = None
    with pytest.raises(ConfigError, match="true groups"):
        simulate("oracle", ds_engine=(ds, engine))


@pytest.mark.parametrize("method", ["flhc", "kmeans"])
def test_one_shot_clustering_recovers_two_groups(method):
    ds, engine, res = simulate(method, rounds=4, warmup_rounds=1, n_clusters=2)
    assert adjusted_rand_score(ds.true_groups, res.assignments) == 1.0
    assert res.assignment_history[0].tolist() == [0] * 6  # FedAvg during warm-up
    # 1 FedAvg round, round 2 clustered: each cluster model = mean of its local models.
    for key in np.unique(res.assignments):
        assert np.linalg.norm(res.models[key] - engine.targets[res.assignments == key].mean(0)) < 1


def test_one_shot_threshold_cut_without_k():
    ds, engine, res = simulate("flhc", rounds=3, warmup_rounds=1, n_clusters=0,
                               distance_threshold=0.5)
    assert adjusted_rand_score(ds.true_groups, res.assignments) == 1.0


def test_ifca_clients_pick_the_lowest_loss_model():
    ds, engine, res = simulate("ifca", rounds=4, n_clusters=2)
    assert adjusted_rand_score(ds.true_groups, res.assignments) == 1.0
    first = res.diagnostics[0]["loss_matrix"]
    assert first.shape == (2, ds.n_clients)
    assert (res.assignment_history[0] == np.argmin(first, axis=0)).all()


def test_same_seed_same_numbers():
    a = simulate("ifca", rounds=3, n_clusters=2)[2]
    b = simulate("ifca", rounds=3, n_clusters=2)[2]
    assert (a.assignment_history == b.assignment_history).all()
    for k in a.models:
        np.testing.assert_array_equal(a.models[k], b.models[k])


def test_every_registered_strategy_runs_and_records_a_round_per_round():
    for name, cls in STRATEGIES.items():
        assert cls.name == name and cls.paper, name
        defaults = {k: spec.default for k, spec in cls.param_schema.items()}
        assert cls(**defaults).get_params() == defaults
        params = {"n_clusters": 2} if "n_clusters" in cls.param_schema else {}
        ds, engine, res = simulate(name, rounds=3, **params)
        assert len(res.rounds) == 3 and res.assignment_history.shape == (3, ds.n_clients)
        assert set(res.assignments) <= set(res.models), name
        assert {"weights", "updates", "last_layer", "data_summary"} <= set(res.representations)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ConfigError, match="unknown parameter"):
        STRATEGIES["fedavg"](n_clusters=3)


def test_one_shot_clusters_in_the_last_round_when_the_run_is_shorter_than_warm_up():
    ds, engine, res = simulate("flhc", rounds=2, warmup_rounds=5, n_clusters=2)
    assert res.assignment_history[0].tolist() == [0] * 6
    assert adjusted_rand_score(ds.true_groups, res.assignments) == 1.0
