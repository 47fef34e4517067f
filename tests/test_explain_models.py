"""Per-cluster model attributions: linear models that use different features rank them so."""

import numpy as np
import pandas as pd
import pytest

from fedcore.config import ModelSpec
from fedcore.errors import ConfigError
from fedcore.explain import cluster_model_attributions
from fedcore.explain.sanity import linear_logits, shifted_feature_federation
from fedcore.results import SimulationResult


def _weights(feature: int, d: int = 6, strength: float = 3.0) -> np.ndarray:
    W = np.zeros((d, 2))
    W[:, 1] = 0.05  # a little weight everywhere, so the ranking is not a tie
    W[feature, 1] = strength
    return W


@pytest.fixture(scope="module")
def ds():
    return shifted_feature_federation(n_clients=8, n_samples=40, seed=3)


def test_numpy_linear_models_rank_their_feature_first(ds):
    predictors = {0: linear_logits(_weights(0)), 1: linear_logits(_weights(2)),
                  "FedAvg": linear_logits(_weights(5))}
    att = cluster_model_attributions(ds, labels=ds.true_groups, predictors=predictors,
                                     n_background=20, n_explain=15, seed=0)
    assert att.attrs["method"] == "permutation"
    assert list(dict.fromkeys(att["model"])) == ["cluster 0", "cluster 1", "FedAvg"]
    top = att[att["rank"] == 1].set_index("model")["feature"]
    assert top.to_dict() == {"cluster 0": "feature_0", "cluster 1": "feature_2",
                             "FedAvg": "feature_5"}
    # exact Shapley values of a linear logit: w_j * (x_j - E[x_j]); the top feature's mean |.|
    # is >> the others' (weight 3 vs 0.05)
    c0 = att[att["model"] == "cluster 0"].set_index("feature")["mean_abs_shap"]
    assert c0["feature_0"] > 20 * c0.drop("feature_0").max()


def test_keras_models_from_flat_weights_gradient(ds):
    from fedcore.models import build_model, get_flat_weights, set_flat_weights

    model = build_model(ModelSpec("logreg"), ds.input_shape, ds.n_classes, seed=0)
    flats = {}
    for k, feature in ((0, 1), (1, 4)):
        kernel = _weights(feature).astype(np.float32)
        set_flat_weights(model, np.concatenate([kernel.ravel(), np.zeros(2, np.float32)]))
        flats[k] = get_flat_weights(model)
    res = SimulationResult("oracle", {}, {}, ds.client_ids, ds.true_groups, ds.true_groups,
                           ds.true_groups[None], pd.DataFrame(), pd.DataFrame(),
                           models=flats, model_spec={"kind": "logreg", "hidden": []})
    att = cluster_model_attributions(ds, res, n_background=20, n_explain=20, seed=0,
                                     method="gradient", nsamples=20,
                                     reference_models={"FedAvg": flats[0]})
    top = att[att["rank"] == 1].set_index("model")["feature"].to_dict()
    assert top == {"cluster 0": "feature_1", "cluster 1": "feature_4", "FedAvg": "feature_1"}
    assert att.attrs["method"] == "gradient"
    assert len(att) == 3 * ds.n_features


def test_needs_labels_or_result(ds):
    with pytest.raises(ConfigError):
        cluster_model_attributions(ds, predictors={0: linear_logits(_weights(0))})
    with pytest.raises(ConfigError):
        cluster_model_attributions(ds, labels=ds.true_groups, method="deep")


def test_permutation_shapley_is_exact_for_linear_logits():
    from fedcore.explain.model_attributions import permutation_shapley

    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    background, X = rng.normal(size=(16, 5)), rng.normal(size=(7, 5))
    phi = permutation_shapley(linear_logits(W, b), background, X, n_permutations=2, seed=1)
    predicted = (X @ W + b).argmax(axis=1)
    exact = W[:, predicted].T * (X - background.astype(np.float32).mean(axis=0))
    np.testing.assert_allclose(phi, exact, rtol=1e-4, atol=1e-5)
    # efficiency: contributions add up to f(x) - E[f(background)]
    f = (X @ W + b)[np.arange(7), predicted]
    base = (background @ W + b)[:, predicted].mean(axis=0)
    np.testing.assert_allclose(phi.sum(axis=1), f - base, rtol=1e-4, atol=1e-4)


def test_gradient_shap_leaves_numpy_global_state_alone(ds):
    import keras

    from fedcore.explain.shap_estimators import gradient_shap as _gradient_shap

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    np.random.seed(123)
    expected = np.random.get_state()[1].copy()
    np.random.seed(123)
    _gradient_shap(model, ds.x_train[0][:5], ds.x_test[0][:3], nsamples=4, seed=0)
    np.testing.assert_array_equal(np.random.get_state()[1], expected)


@pytest.mark.parametrize("kind,hidden", [("logreg", []), ("mlp", [7, 5])])
def test_dense_predictor_matches_the_keras_model(ds, kind, hidden):
    from fedcore.explain.disagreement import dense_predictor
    from fedcore.models import build_model, get_flat_weights

    model = build_model(ModelSpec(kind, tuple(hidden)), ds.input_shape, ds.n_classes, seed=3)
    flat = get_flat_weights(model)
    flat = flat + np.random.default_rng(0).normal(scale=0.1, size=flat.size).astype(np.float32)
    from fedcore.models import set_flat_weights
    set_flat_weights(model, flat)
    res = SimulationResult("oracle", {}, {}, ds.client_ids, ds.true_groups, ds.true_groups,
                           ds.true_groups[None], pd.DataFrame(), pd.DataFrame(),
                           models={0: flat}, model_spec={"kind": kind, "hidden": hidden})
    X = ds.x_test[0]
    predict = dense_predictor(res, flat, ds.n_features, ds.n_classes)
    np.testing.assert_allclose(predict(X), np.asarray(model(X)), rtol=1e-4, atol=1e-5)
    assert dense_predictor(res, flat[:-1], ds.n_features, ds.n_classes) is None
    cnn = SimulationResult("oracle", {}, {}, [], None, np.array([]), np.zeros((1, 0)),
                           pd.DataFrame(), pd.DataFrame(), model_spec={"kind": "cnn"})
    assert dense_predictor(cnn, flat, ds.n_features, ds.n_classes) is None
