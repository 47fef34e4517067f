"""Fair-comparison protocol of grids: K given/estimated, tuning on validation data only,
paired differences to FedAvg, per-client standardisation, validation of the new flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_store import fake_result, fake_run_spec  # noqa: F401  (grid backend)

from fedcore.cli import main
from fedcore.dataset import PooledData
from fedcore.errors import ConfigError
from fedcore.grid import GridSpec, run_grid
from fedcore.grid.argv import grid_to_argv, spec_to_argv
from fedcore.grid.stats import summary_frame, t_interval, text_report
from fedcore.kmode import apply_k_mode, k_label
from fedcore.params import Param
from fedcore.partition import federate
from fedcore.partition.holdout import validation_view
from fedcore.runner import ExperimentSpec, load_base_dataset
from fedcore.strategies import STRATEGIES
from fedcore.strategies.ifca import IFCA

FAKE = "test_store:fake_run_spec"
REAL = "fedcore.grid.executors:run_spec"


class KFake(IFCA):
    """IFCA with the ``estimate_k`` switch every method that needs K has."""

    name = "kfake"
    param_schema = {**IFCA.param_schema,
                    "estimate_k": Param(bool, False, help="estimate K after warm-up")}


@pytest.fixture
def kfake(monkeypatch):
    monkeypatch.setitem(STRATEGIES, "kfake", KFake)
    return "kfake"


def grid_of(**kw) -> GridSpec:
    args = {"data": "digits", "scenarios": ["rotation"], "methods": ["fedavg", "cfl"],
            "seeds": [0, 1, 2], "n_clients": 6, "n_groups": 2, "samples_per_client": 20}
    return GridSpec(**(args | kw))


# --- K given / estimated ---------------------------------------------------------------

def test_k_modes_set_params_from_truth_or_estimate(kfake):
    truth = np.array([0, 1, 2, 0, 1, 2])
    assert apply_k_mode(kfake, {}, "given", truth) == {"n_clusters": 3}
    assert apply_k_mode(kfake, {}, "estimated", truth) == {"estimate_k": True}
    assert apply_k_mode("cfl", {"eps2": 1.0}, None, truth) == {"eps2": 1.0}
    with pytest.raises(ConfigError, match="needs the true groups"):
        apply_k_mode(kfake, {}, "given", None)
    with pytest.raises(ConfigError, match="n_clusters is set by the K mode"):
        apply_k_mode(kfake, {"n_clusters": 2}, "given", truth)
    with pytest.raises(ConfigError, match="does not take K"):
        apply_k_mode("cfl", {}, "estimated", truth)
    assert k_label("oracle", {}) == "true groups"
    assert k_label("cfl", {}) == "K discovered"
    assert k_label("pacfl", {}) == "K discovered"
    assert k_label("ifca", {"n_clusters": 3}) == "K = 3 (fixed)"
    assert k_label("fedavg", {}) == "no clustering"


def test_tables_mark_k_given_and_estimated(kfake, tmp_path, capsys):
    grid = grid_of(methods=["fedavg", kfake, "cfl", "oracle"], k_modes=["given", "estimated"])
    cells = grid.cells()
    assert len(cells) == 5 * 3  # two rows for the method that needs K
    assert {c.spec.get("k_mode") for c in cells if c.method == kfake} == {"given", "estimated"}
    assert all("k_mode" not in c.spec for c in cells if c.method != kfake)
    run_grid(grid, tmp_path, workers=0, backend=FAKE, formats=())
    tidy = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert list(dict.fromkeys(tidy["variant"])) == [
        "fedavg", "kfake [K given (oracle)]", "kfake [K estimated]", "cfl [K discovered]",
        "oracle [true groups]"]
    for name in ("table.tex", "table_worst.tex", "table_ari.tex", "table_diff.tex"):
        tex = (tmp_path / name).read_text()
        assert "kfake [K given (oracle)]" in tex and "kfake [K estimated]" in tex, name
        assert "oracle [true groups]" in tex and "Method" in tex
    assert "Final-round mean client accuracy" in (tmp_path / "table.tex").read_text()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(summary) == 5 and (summary["n_seeds"] == 3).all()
    text = text_report(summary_frame(tidy))
    assert "K given (oracle)" in text and "Final-round" in text and "95% Student-t" in text


def test_pinned_n_clusters_runs_once_as_set(kfake):
    grid = grid_of(methods=[kfake], k_modes=["given", "estimated"],
                   method_params={kfake: {"n_clusters": 3}})
    assert [c.k_mode for c in grid.cells()] == [None] * 3


# --- tuning: validation split of TRAIN data only -----------------------------------------

def test_validation_view_holds_out_train_rows_only():
    spec = ExperimentSpec(data="digits", method="fedavg", scenario="rotation", n_clients=4,
                          n_groups=2, samples_per_client=30, data_seed=3)
    base = load_base_dataset(spec)
    view = validation_view(base, 0.2, seed=3)
    assert view.true_groups is None and view.provenance["validation"]["fraction"] == 0.2
    for i in range(base.n_clients):
        train = {r.tobytes() for r in base.x_train[i]}
        test = {r.tobytes() for r in base.x_test[i]}
        held = [r.tobytes() for r in view.x_test[i]]
        kept = [r.tobytes() for r in view.x_train[i]]
        assert len(held) == round(0.2 * len(base.y_train[i]))
        assert len(held) + len(kept) == len(base.y_train[i])
        assert set(held) <= train and set(kept) <= train and not set(held) & test
    again = validation_view(base, 0.2, seed=3)
    assert again.fingerprint() == view.fingerprint()


def _rows(arrays) -> set:
    return {r.tobytes() for x in arrays for r in x}


def test_tuning_uses_validation_not_test_nor_truth(tmp_path, monkeypatch):
    """The fake simulation's score prefers eps2=1.6 whenever it is evaluated on the test
    split or can see the true groups, eps2=0.4 otherwise: only an honest tuner picks 0.4."""
    grid = grid_of(methods=["fedavg", "cfl"], seeds=[0, 1], tune_seeds=[100, 101])
    test_rows = set()
    for seed in (0, 1, 100, 101):
        spec = ExperimentSpec.from_dict(grid.cell_spec("rotation", "cfl", seed))
        test_rows |= _rows(load_base_dataset(spec).x_test)
    seen = []

    def fake_simulation(dataset, strategy, config, progress=None):
        on_test = np.mean([r.tobytes() in test_rows for x in dataset.x_test for r in x]) > 0.5
        cheat = on_test or dataset.true_groups is not None
        seen.append((strategy.name, cheat))
        target = 1.6 if cheat else 0.4
        res = fake_result(config.seed, n_clients=dataset.n_clients, method=strategy.name)
        res.params = strategy.get_params()
        res.true_groups = dataset.true_groups
        eps2 = strategy.params.get("eps2", 1.0)
        res.client_metrics["accuracy"] = 1.0 - abs(eps2 - target) / 2
        return res

    monkeypatch.setattr("fedcore.simulation.run_simulation", fake_simulation)
    # One cell per task: the fake replaces run_simulation, which lockstep batches bypass.
    report = run_grid(grid, tmp_path, workers=0, backend=REAL, formats=(), batch_cells=1)
    assert not report.failed
    assert len(grid.tuning_cells()) == 5 * 2  # eps2 candidates x two tuning seeds
    assert seen[:10] == [("cfl", False)] * 10  # tuning runs: no test rows, no truth
    meta = json.loads((tmp_path / "grid.json").read_text())
    (record,) = meta["tuning"]
    assert record["params"] == {"eps2": 0.4} and record["status"] == "chosen"
    assert meta["grid"]["tune_seeds"] == [100, 101]
    reported = [json.loads((tmp_path / "cells" / c / "spec.json").read_text())
                for c in meta["cells"]]
    assert [s["method_params"] for s in reported
            if s["method"] == "cfl"] == [{"eps2": 0.4}] * 2
    assert all("validation_fraction" not in s or not s["validation_fraction"] for s in reported)
    assert "eps2=0.4" in (tmp_path / "table.tex").read_text()
    # resuming recomputes nothing
    again = run_grid(grid, tmp_path, workers=0, backend=REAL, formats=())
    assert again.computed == 0 and again.skipped == report.total


def test_tuning_spaces_are_valid_for_their_methods():
    from fedcore.grid.tuning import TUNING_SPACES, candidates
    from fedcore.params import validate
    for method, space in TUNING_SPACES.items():
        schema = STRATEGIES[method].param_schema
        present = [n for n in space.values if n in schema]
        if not present:  # e.g. IFCA's n_init before the method fixes of issue 11 land
            assert candidates(method, space.k_modes[0], {}) == []
            continue
        for name in present:
            for value in space.values[name]:
                validate(schema, {name: value}, method)
        mode = space.k_modes[0]
        first = candidates(method, mode, {})[0]
        assert all(first[n] == schema[n].default for n in first  # default first: wins ties
                   if schema[n].default in space.values[n])
    assert candidates("cfl", None, {"eps2": 1.0}) == []  # pinned by the user: not tuned
    assert candidates("pacfl", None, {})[0] == {"threshold": 15.0}
    assert candidates("fedavg", None, {}) == [] and candidates("flhc", "given", {}) == []


# --- paired difference to FedAvg --------------------------------------------------------

def test_paired_difference_t_interval_by_hand():
    rows = []
    for seed, base, ours in [(0, 0.70, 0.72), (1, 0.60, 0.64), (2, 0.80, 0.86)]:
        for method, acc in (("fedavg", base), ("m", ours)):
            rows.append({"scenario": "s", "variant": method, "method": method, "k": "",
                         "seed": seed, "data_seed": seed, "mean_client_accuracy": acc,
                         "worst_accuracy": acc - 0.1, "ari": np.nan})
    tidy = pd.DataFrame(rows)
    from fedcore.grid.stats import paired_differences
    tidy["fedavg_diff"] = paired_differences(tidy)
    np.testing.assert_allclose(tidy["fedavg_diff"], [0, 0.02, 0, 0.04, 0, 0.06], atol=1e-12)
    row = summary_frame(tidy).set_index("variant").loc["m"]
    half = 4.302652729911275 * 0.02 / np.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert row["diff_mean"] == pytest.approx(0.04)
    assert (row["diff_low"], row["diff_high"]) == pytest.approx((0.04 - half, 0.04 + half))
    assert row["accuracy_std"] == pytest.approx(np.std([0.72, 0.64, 0.86], ddof=1))
    assert np.isnan(t_interval([0.1])[1])


# --- standardisation --------------------------------------------------------------------

def _tabular_pool():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    X[30:] = X[30:] * 5 + 10  # the second client lives on another scale
    return PooledData(X=X, y=np.tile([0, 1], 30), feature_names=["a", "b", "c"],
                      label_names=["n", "y"], input_shape=(3,), name="tab")


def test_per_client_standardisation_uses_each_clients_train_statistics():
    pool = _tabular_pool()
    idx = {"c0": np.arange(30), "c1": np.arange(30, 60)}
    fed = federate(pool, idx, None, seed=0, test_fraction=0.2, name="t", provenance={},
                   standardisation="per-client")
    record = fed.provenance["standardisation"]
    assert record["mode"] == "per-client"
    raw = federate(pool, idx, None, seed=0, test_fraction=0.2, name="t", provenance={},
                   standardisation="none")
    for i, cid in enumerate(["c0", "c1"]):
        np.testing.assert_allclose(fed.x_train[i].mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(fed.x_train[i].std(axis=0), 1, atol=1e-5)
        mean, std = raw.x_train[i].mean(axis=0), raw.x_train[i].std(axis=0)
        np.testing.assert_allclose(record["clients"][cid]["mean"], mean, atol=1e-5)
        np.testing.assert_allclose(fed.x_test[i], (raw.x_test[i] - mean) / std, atol=1e-5)
    pooled = federate(pool, idx, None, seed=0, test_fraction=0.2, name="t", provenance={})
    assert pooled.provenance["standardisation"]["mode"] == "pooled"
    assert abs(pooled.x_train[1].mean()) > 0.5  # pooled statistics keep the client shift
    with pytest.raises(ConfigError, match="standardisation must be one of"):
        federate(pool, idx, None, seed=0, test_fraction=0.2, name="t", provenance={},
                 standardisation="global")


def test_standardisation_is_recorded_in_spec_argv_and_grid():
    spec = ExperimentSpec(data="heart", method="fedavg", standardisation="per-client")
    assert spec.to_dict()["standardisation"] == "per-client"
    assert "per-client" in spec_to_argv(spec.to_dict())
    grid = grid_of(standardisation="per-client", tune_seeds=[9], k_modes=["estimated"])
    assert all(c.spec["standardisation"] == "per-client" for c in grid.cells())
    argv = grid_to_argv(grid)
    assert argv[argv.index("--standardisation") + 1] == "per-client"
    assert argv[argv.index("--tune-seeds") + 1] == "9"
    assert argv[argv.index("--k") + 1] == "estimated"


# --- validation of the new flags ---------------------------------------------------------

@pytest.mark.parametrize("flags, message", [
    (["--k", "oracle"], "--k 'oracle': expected given, estimated"),
    (["--k", "given,given"], "--k"),
    (["--tune-seeds", "1,x"], "--tune-seeds '1,x': expected integers"),
    (["--tune-seeds", "0,5"], "--tune-seeds must differ from the reported --seeds"),
    (["--tune-seeds", "-3"], "give distinct seeds >= 0"),
    (["--validation-fraction", "1.5"], "validation fraction"),
])
def test_grid_rejects_bad_fairness_flags(tmp_path, capsys, flags, message):
    argv = ["grid", "--data", "digits", "--scenarios", "rotation", "--methods", "fedavg,cfl",
            "--seeds", "0,1", "--tune-seeds", "7", *flags, "--out", str(tmp_path / "g")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "g").exists()


def test_grids_page_builds_fair_grids(kfake):
    from fedcore.grid import dashboard
    grid = dashboard.build_grid("digits", ["rotation"], ["fedavg", kfake], [0, 1], 4, 2, 30, 2,
                                k_modes=["given", "estimated"], tune_seeds=[5])
    assert grid.k_modes == ["given", "estimated"] and grid.tune_seeds == [5]
    assert len(grid.cells()) == 2 * 3
    with pytest.raises(ConfigError, match="must differ"):
        dashboard.build_grid("digits", ["rotation"], ["fedavg"], [0], 4, 2, 30, 2,
                             tune_seeds=[0])
