"""The vectorised engine on a regression task (MSE and Huber) equals per-client Keras
training and evaluation, as ``tests/test_engine.py`` checks for classification."""

import keras
import numpy as np
import pytest
from engine_support import (
    keras_fit_round,
    make_dataset,
    make_regression,
    run_rounds,
    tape_round,
)

from fedcore.config import FitConfig, ModelSpec
from fedcore.engine import VectorisedEngine
from fedcore.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def uneven():
    return make_dataset([23, 7, 40])


@pytest.fixture(scope="module")
def regression():
    return make_regression([23, 7, 40])


@pytest.mark.parametrize("kind, optimizer, lr, model", [
    ("mse", "sgd", 0.05, ModelSpec("mlp", (8,))), ("huber", "sgd", 0.1, ModelSpec("mlp", (8,))),
    ("mse", "adam", 0.01, ModelSpec("logreg", ())), ("huber", "adam", 0.01,
                                                     ModelSpec("mlp", (8,)))])
def test_regression_fit_equals_keras_fit(regression, kind, optimizer, lr, model):
    engine = VectorisedEngine(regression, model, seed=1)
    fit = FitConfig(local_epochs=2, batch_size=8, lr=lr, optimizer=optimizer, loss=kind,
                    huber_delta=0.5)
    run_rounds(engine, keras_fit_round, fit)


def test_regression_fedprox_equals_manual_tape_loop(regression):
    engine = VectorisedEngine(regression, ModelSpec("mlp", (8,)), seed=2)
    fit = FitConfig(local_epochs=2, batch_size=8, lr=0.05, prox_mu=0.5, loss="huber")
    run_rounds(engine, tape_round, fit, rounds=2)


def test_huber_and_mse_train_differently(regression):
    engine = VectorisedEngine(regression, ModelSpec("mlp", (8,)), seed=2)
    start = np.tile(engine.initial_weights(), (3, 1))
    a = engine.fit(start, np.arange(3), FitConfig(batch_size=8, loss="mse"), 0)
    b = engine.fit(start, np.arange(3), FitConfig(batch_size=8, loss="huber",
                                                   huber_delta=0.5), 0)
    assert np.abs(a.weights - b.weights).max() > 1e-4


@pytest.mark.parametrize("kind", ["mse", "huber"])
def test_regression_evaluation_equals_keras(kind):
    from fedcore.config import Loss
    from fedcore.regression_metrics import regression_scores

    ds = make_regression([10, 5, 8, 6], test_sizes=[9, 4, 0, 13], seed=4)
    loss_spec = Loss(kind, 0.7 if kind == "huber" else 0.0)
    engine = VectorisedEngine(ds, ModelSpec("mlp", (8,)), seed=0, loss=loss_spec)
    reference = (keras.losses.Huber(0.7) if kind == "huber"
                 else keras.losses.MeanSquaredError())
    rng = np.random.default_rng(0)
    models = (engine.initial_weights()[None, :]
              + rng.normal(scale=0.5, size=(3, engine.n_params))).astype(np.float32)
    loss, rmse = engine.evaluate_matrix(models)
    for m in range(3):
        model = engine.keras_model(models[m])
        for c in range(4):
            if c == 2:
                assert np.isnan(loss[m, c]) and np.isnan(rmse[m, c])
                continue
            pred = np.asarray(model(ds.x_test[c]))
            assert pred.shape == (len(ds.y_test[c]), 1)
            assert loss[m, c] == pytest.approx(float(reference(ds.y_test[c], pred)), rel=1e-5)
            want = regression_scores(ds.y_test[c], pred[:, 0])["rmse"]
            assert rmse[m, c] == pytest.approx(want, rel=1e-5)
            np.testing.assert_allclose(engine.predict(models[m], [c]), pred, rtol=1e-5,
                                       atol=1e-6)
    own_loss, own_rmse = engine.evaluate_own(models[[0, 1, 2, 0]], np.arange(4))
    np.testing.assert_allclose(own_loss[[0, 1, 3]], loss[[0, 1, 0], [0, 1, 3]], rtol=1e-5)
    np.testing.assert_allclose(own_rmse[[0, 1, 3]], rmse[[0, 1, 0], [0, 1, 3]], rtol=1e-5)
    # the train split and two clients at once, in the order asked
    both = engine.predict(models[0], [3, 1], split="train")
    np.testing.assert_allclose(both, np.asarray(engine.keras_model(models[0])(
        np.concatenate([ds.x_train[3], ds.x_train[1]]))), rtol=1e-5, atol=1e-6)


def test_regression_loss_config_is_checked(regression, uneven):
    with pytest.raises(ConfigError, match="huber_delta"):
        FitConfig(loss="huber", huber_delta=0)
    with pytest.raises(ConfigError, match="unknown loss"):
        FitConfig(loss="mae")
    with pytest.raises(ConfigError, match="does not fit a classification task"):
        FitConfig(loss="mse").loss_for("classification")
    with pytest.raises(ConfigError, match="does not fit a regression task"):
        FitConfig(loss="cross_entropy").loss_for("regression")
    engine = VectorisedEngine(uneven, ModelSpec("logreg", ()), seed=0)
    with pytest.raises(ConfigError, match="mse"):
        engine.fit(np.tile(engine.initial_weights(), (3, 1)), np.arange(3),
                   FitConfig(loss="mse"), 0)
    assert VectorisedEngine(regression, ModelSpec("logreg", ())).model.output_shape == (None, 1)
    from fedcore.models import build_model
    head = build_model(ModelSpec("cnn", (4,)), (8, 8, 1), 1, regression=True).layers[-1]
    assert head.name == "prediction" and head.units == 1 and head.activation.__name__ == "linear"
    with pytest.raises(ConfigError, match="regression target"):
        build_model(ModelSpec("mlp", (4,)), (5,), 2, regression=True)
    bad = make_regression([6, 6], seed=1)
    bad.y_test[1][2] = np.nan
    with pytest.raises(DataError, match="client 'c1', test row 2: target is nan"):
        VectorisedEngine(bad, ModelSpec("logreg", ()))
