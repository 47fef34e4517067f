"""Unit tests of the pure helpers of fedcore.ui (no Streamlit session needed)."""

from __future__ import annotations

import pytest

from fedcore.errors import ConfigError
from fedcore.params import Param
from fedcore.ui import forms, simulate_view
from fedcore.ui.cluster_figures import _sankey_rounds, embedding_note


def test_parse_ints_accepts_lists_and_rejects_junk():
    assert forms.parse_ints("64, 32") == (64, 32)
    assert forms.parse_ints("128;") == (128,)
    assert forms.parse_ints("") == ()
    with pytest.raises(ConfigError, match="hidden sizes"):
        forms.parse_ints("64, abc", "hidden sizes")
    with pytest.raises(ConfigError, match=">= 1"):
        forms.parse_ints("0")


def test_schema_kinds_cover_registry_types():
    assert Param(int, 1).kind == "int" and Param(float, 1.0).kind == "float"
    assert Param(str, "a", choices=("a",)).kind == "choice"
    assert Param(bool, False).kind == "bool" and Param(str, "x").kind == "str"
    assert forms._clip(7, 1, 4) == 4 and forms._clip(-1, 0, None) == 0


def test_cluster_count_defaults_fit_the_number_of_clients():
    schema = {"n_clusters": Param(int, 4, 1, 50), "eps": Param(float, 0.5, 0.0, 1.0)}
    fitted = simulate_view._fit_schema(schema, n_clients=3)
    # At most half the clients (never below 2): a default of K = N clusters would be
    # local training in disguise (e.g. 4 clusters for the 4 heart hospitals).
    assert fitted["n_clusters"].max == 3 and fitted["n_clusters"].default == 2
    big = simulate_view._fit_schema(schema, n_clients=20)
    assert big["n_clusters"].default == 4
    zero = simulate_view._fit_schema({"n_clusters": Param(int, 0, 0, 50)}, n_clients=4)
    assert zero["n_clusters"].default == 0  # 0 = "cut by threshold" stays
    assert fitted["eps"] == schema["eps"]
    assert schema["n_clusters"].max == 50  # the registry's schema is not modified


def test_sankey_rounds_are_sampled_but_keep_first_and_last():
    assert _sankey_rounds(5) == [0, 1, 2, 3, 4]
    rows = _sankey_rounds(100)
    assert rows[0] == 0 and rows[-1] == 99 and len(rows) == 8


def test_embedding_note_explains_the_layout():
    assert embedding_note("umap", 50) == "Layout: UMAP."
    assert "too few clients" in embedding_note("pca", 4)
    assert "warming up" in embedding_note("pca", 40)
    note = embedding_note("pca", 12, "UMAP needs more clients")
    assert note == "Layout: UMAP needs more clients."


def test_slider_format_shows_every_step():
    assert forms.step_format(0.003) == "%.3f"
    assert forms.step_format(0.25) == "%.2f"
    assert forms.step_format(2.0) == "%.0f"


def _result(method, params, fp="d1", seed=0):
    from types import SimpleNamespace
    return SimpleNamespace(method=method, params=params, dataset_fingerprint=fp,
                           config={"seed": seed, "rounds": 10})


def test_run_ids_tell_apart_params_data_and_seed_and_names_are_unique():
    from fedcore.ui.run_keys import display_names, run_id

    k2, k4 = _result("ifca", {"n_clusters": 2}), _result("ifca", {"n_clusters": 4})
    ids = {run_id(r) for r in (k2, k4, _result("ifca", {"n_clusters": 2}, fp="d2"),
                               _result("ifca", {"n_clusters": 2}, seed=1))}
    assert len(ids) == 4
    assert run_id(k2) == run_id(_result("ifca", {"n_clusters": 2}))  # same setting, same id
    fed = _result("fedavg", {})
    names = display_names({"a": k2, "b": k4, "c": fed}, oracle={"b"})
    assert names == {"a": "ifca (n_clusters=2)", "b": "ifca (n_clusters=4) · oracle K",
                     "c": "fedavg"}
    seeds = display_names({"a": k2, "b": _result("ifca", {"n_clusters": 2}, seed=1)})
    assert seeds == {"a": "ifca (seed=0)", "b": "ifca (seed=1)"}


def test_same_partition_ignores_label_numbering():
    import numpy as np

    from fedcore.metrics import relabel_like, same_partition
    own = np.array([0, 0, 1, 1, 2])
    assert same_partition([5, 5, 3, 3, 0], own)
    assert not same_partition([0, 0, 1, 1, 1], own)
    np.testing.assert_array_equal(relabel_like([1, 1, 0, 0, 2], own), own)
    np.testing.assert_array_equal(relabel_like([0, 1, 1, 0, 2], own), [0, 1, 1, 0, 2])


def test_params_are_validated_before_anything_runs():
    assert simulate_view.validate_methods({"ifca": {"n_clusters": 2}}) is None
    problem = simulate_view.validate_methods({"fedavg": {}, "ifca": {"k": 4}})
    assert problem is not None and "ifca" in problem and "'k'" in problem
