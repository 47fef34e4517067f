"""The vectorised engine equals plain per-client Keras training and evaluation.

References: ``keras.Model.fit`` (fresh optimizer per client and round, data in the
engine's ``batch_order``, ``shuffle=False``) for SGD/Adam, a manual ``GradientTape`` loop
with Keras optimizers for FedProx. Several FedAvg rounds, uneven client sizes.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import fedcore.engine.vectorised as vectorised
from fedcore.config import FitConfig, ModelSpec
from fedcore.dataset import FederatedDataset
from fedcore.engine import FitOutput, VectorisedEngine
from fedcore.engine.batching import client_batch_order
from fedcore.errors import ConfigError, DataError
from fedcore.models import get_flat_weights, set_flat_weights

CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def keras_loss(engine, fit):
    """The Keras loss the engine's training must equal: CE, or MSE / Huber on regression."""
    loss = fit.loss_for(engine.dataset.task)
    return {"cross_entropy": CE, "mse": keras.losses.MeanSquaredError(),
            "huber": keras.losses.Huber(delta=loss.delta)}[loss.kind]


def make_regression(train_sizes, test_sizes=None, d=5, seed=0):
    """Targets ``+-2 x0 + noise``: client ``i`` has slope ``(-1)^i`` (clusters matter)."""
    rng = np.random.default_rng(seed)
    test_sizes = test_sizes or [max(n // 2, 1) for n in train_sizes]

    def draw(n, sign):
        x = rng.normal(size=(n, d)).astype(np.float32)
        return x, (sign * 2.0 * x[:, 0] + 0.3 * rng.normal(size=n)).astype(np.float32)

    train = [draw(n, (-1) ** i) for i, n in enumerate(train_sizes)]
    test = [draw(n, (-1) ** i) for i, n in enumerate(test_sizes)]
    return FederatedDataset(
        client_ids=[f"c{i}" for i in range(len(train_sizes))],
        x_train=[a for a, _ in train], y_train=[b for _, b in train],
        x_test=[a for a, _ in test], y_test=[b for _, b in test],
        feature_names=[f"f{j}" for j in range(d)], label_names=["target"],
        input_shape=(d,), task="regression")


def make_dataset(train_sizes, test_sizes=None, d=12, k=3, seed=0, input_shape=None):
    rng = np.random.default_rng(seed)
    test_sizes = test_sizes or [max(n // 2, 1) for n in train_sizes]
    teacher = rng.normal(size=(d, k))

    def draw(n):
        x = rng.normal(size=(n, d)).astype(np.float32)
        y = np.argmax(x @ teacher + rng.normal(size=(n, k)), axis=1).astype(np.int64)
        return x, y

    train = [draw(n) for n in train_sizes]
    test = [draw(n) for n in test_sizes]
    return FederatedDataset(
        client_ids=[f"c{i}" for i in range(len(train_sizes))],
        x_train=[a for a, _ in train], y_train=[b for _, b in train],
        x_test=[a for a, _ in test], y_test=[b for _, b in test],
        feature_names=[f"f{j}" for j in range(d)], label_names=[f"y{j}" for j in range(k)],
        input_shape=input_shape or (d,))


def fedavg(weights, n):
    n = np.asarray(n, dtype=np.float64)
    return (n @ weights.astype(np.float64) / n.sum()).astype(np.float32)


def keras_fit_round(engine, start, clients, fit, round_seed):
    """One round of per-client ``model.fit`` in the engine's data order."""
    ds = engine.dataset
    model = engine.keras_model()
    out, losses = [], []
    for c in clients:
        set_flat_weights(model, start)
        opt = (keras.optimizers.SGD(fit.lr) if fit.optimizer == "sgd"
               else keras.optimizers.Adam(fit.lr))
        model.compile(optimizer=opt, loss=keras_loss(engine, fit),
                      run_eagerly=True)  # no per-client tracing
        for order in engine.batch_order(c, round_seed, fit.local_epochs):
            hist = model.fit(ds.x_train[c][order], ds.y_train[c][order], shuffle=False,
                             batch_size=fit.batch_size, epochs=1, verbose=0)
        out.append(get_flat_weights(model))
        losses.append(hist.history["loss"][-1])
    return np.stack(out), np.array(losses)


def tape_round(engine, start, clients, fit, round_seed):
    """One round of a manual GradientTape loop with the FedProx term."""
    ds = engine.dataset
    model = engine.keras_model()
    out = []
    for c in clients:
        set_flat_weights(model, start)
        anchor = [tf.identity(v) for v in model.trainable_weights]
        opt = (keras.optimizers.SGD(fit.lr) if fit.optimizer == "sgd"
               else keras.optimizers.Adam(fit.lr))
        for order in engine.batch_order(c, round_seed, fit.local_epochs):
            for i in range(0, len(order), fit.batch_size):
                idx = order[i:i + fit.batch_size]
                with tf.GradientTape() as tape:
                    loss = keras_loss(engine, fit)(ds.y_train[c][idx], model(ds.x_train[c][idx]))
                    loss += tf.add_n([fit.prox_mu / 2.0 * tf.reduce_sum(tf.square(v - a))
                                      for v, a in zip(model.trainable_weights, anchor)])
                grads = tape.gradient(loss, model.trainable_weights)
                opt.apply_gradients(zip(grads, model.trainable_weights))
        out.append(get_flat_weights(model))
    return np.stack(out)


def run_rounds(engine, reference, fit, rounds=3):
    """FedAvg through the engine and through ``reference``; compare every round."""
    clients = np.arange(engine.dataset.n_clients)
    sizes = engine.dataset.train_sizes()
    w_eng = w_ref = engine.initial_weights()
    for r in range(rounds):
        out = engine.fit(np.tile(w_eng, (len(clients), 1)), clients, fit, round_seed=r)
        ref = reference(engine, w_ref, clients, fit, r)
        ref_w = ref[0] if isinstance(ref, tuple) else ref
        np.testing.assert_allclose(out.weights, ref_w, atol=1e-5, rtol=0)
        assert out.finite.all()
        if isinstance(ref, tuple):
            np.testing.assert_allclose(out.train_loss, ref[1], rtol=1e-5)
        w_eng, w_ref = fedavg(out.weights, sizes), fedavg(ref_w, sizes)
    # training really moved the weights (the comparison is not trivially 0 == 0)
    assert np.abs(w_eng - engine.initial_weights()).max() > 1e-2
    return w_eng


@pytest.fixture(scope="module")
def uneven():
    return make_dataset([23, 7, 40])


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_fit_equals_keras_fit_over_fedavg_rounds(uneven, optimizer, lr):
    engine = VectorisedEngine(uneven, ModelSpec("mlp", (8,)), seed=1)
    fit = FitConfig(local_epochs=2, batch_size=8, lr=lr, optimizer=optimizer)
    run_rounds(engine, keras_fit_round, fit)


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_fedprox_equals_manual_tape_loop(uneven, optimizer, lr):
    engine = VectorisedEngine(uneven, ModelSpec("mlp", (8,)), seed=2)
    fit = FitConfig(local_epochs=2, batch_size=8, lr=lr, optimizer=optimizer, prox_mu=0.5)
    run_rounds(engine, tape_round, fit, rounds=2)
    # the proximal term changes the result
    plain = FitConfig(local_epochs=2, batch_size=8, lr=lr, optimizer=optimizer)
    start = np.tile(engine.initial_weights(), (3, 1))
    a = engine.fit(start, np.arange(3), fit, 0).weights
    b = engine.fit(start, np.arange(3), plain, 0).weights
    assert np.abs(a - b).max() > 1e-4


def test_cnn_equals_keras_fit_on_tiny_images():
    ds = make_dataset([19, 6, 12], d=64, k=3, seed=3, input_shape=(8, 8, 1))
    engine = VectorisedEngine(ds, ModelSpec("cnn", (8,)), seed=0)
    run_rounds(engine, keras_fit_round, FitConfig(local_epochs=1, batch_size=4, lr=0.1),
               rounds=2)


def test_evaluate_matrix_and_own_equal_keras(uneven):
    ds = make_dataset([10, 5, 8, 6], test_sizes=[9, 4, 0, 13], seed=4)
    engine = VectorisedEngine(ds, ModelSpec("mlp", (8,)), seed=0)
    rng = np.random.default_rng(0)
    models = (engine.initial_weights()[None, :]
              + rng.normal(scale=0.3, size=(3, engine.n_params))).astype(np.float32)
    loss, acc = engine.evaluate_matrix(models)
    assert loss.shape == acc.shape == (3, 4)
    for m in range(3):
        model = engine.keras_model(models[m])
        for c in range(4):
            if c == 2:  # no test data
                assert np.isnan(loss[m, c]) and np.isnan(acc[m, c])
                continue
            logits = np.asarray(model(ds.x_test[c]))
            assert loss[m, c] == pytest.approx(float(CE(ds.y_test[c], logits)), rel=1e-5)
            assert acc[m, c] == pytest.approx(np.mean(logits.argmax(1) == ds.y_test[c]))
    # train split and a client subset
    loss_tr, _ = engine.evaluate_matrix(models[:1], clients=[3, 1], split="train")
    logits = np.asarray(engine.keras_model(models[0])(ds.x_train[1]))
    assert loss_tr[0, 1] == pytest.approx(float(CE(ds.y_train[1], logits)), rel=1e-5)
    # each client with its own model
    own_loss, own_acc = engine.evaluate_own(models[[0, 1, 2, 0]], np.arange(4))
    np.testing.assert_allclose(own_loss[[0, 1, 3]], loss[[0, 1, 0], [0, 1, 3]], rtol=1e-5)
    np.testing.assert_allclose(own_acc[[0, 1, 3]], acc[[0, 1, 0], [0, 1, 3]])
    assert np.isnan(own_loss[2])


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


def test_divergence_is_reported_for_that_client_only():
    ds = make_dataset([16, 16, 16], seed=5)
    ds.x_train[1] = ds.x_train[1] * np.float32(1e18)  # finite data, explosive gradients
    engine = VectorisedEngine(ds, ModelSpec("mlp", (8,)), seed=0)
    fit = FitConfig(local_epochs=2, batch_size=4, lr=0.5)
    start = np.tile(engine.initial_weights(), (3, 1))
    out = engine.fit(start, np.arange(3), fit, round_seed=0)
    assert out.finite.tolist() == [True, False, True]
    assert np.isnan(out.train_loss[1]) and np.isfinite(out.train_loss[[0, 2]]).all()
    alone = engine.fit(start[[0, 2]], [0, 2], fit, round_seed=0)
    np.testing.assert_allclose(out.weights[[0, 2]], alone.weights, atol=1e-6, rtol=0)
    loss, _ = engine.evaluate_own(out.weights, np.arange(3))
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()


def test_order_independent_of_participants_and_deterministic(uneven):
    engine = VectorisedEngine(uneven, ModelSpec("logreg", ()), seed=0)
    fit = FitConfig(local_epochs=3, batch_size=5, lr=0.2, optimizer="adam")
    start = np.tile(engine.initial_weights(), (3, 1))
    full = engine.fit(start, [0, 1, 2], fit, round_seed=11)
    again = engine.fit(start, [0, 1, 2], fit, round_seed=11)
    np.testing.assert_array_equal(full.weights, again.weights)  # bit-identical
    part = engine.fit(start[:2], [2, 0], fit, round_seed=11)
    np.testing.assert_allclose(part.weights, full.weights[[2, 0]], atol=1e-6, rtol=0)
    # the same client twice from two different models (IFCA-style): independent rows
    two = np.stack([start[0], start[0] + 0.1]).astype(np.float32)
    dup = engine.fit(two, [2, 2], fit, round_seed=11)
    np.testing.assert_allclose(dup.weights[0], full.weights[2], atol=1e-6, rtol=0)
    solo = engine.fit(two[1:], [2], fit, round_seed=11)
    np.testing.assert_allclose(dup.weights[1], solo.weights[0], atol=1e-6, rtol=0)
    other = engine.fit(start, [0, 1, 2], fit, round_seed=12)
    assert np.abs(other.weights - full.weights).max() > 1e-4
    orders = engine.batch_order(2, 11, 3)
    assert len(orders) == 3 and sorted(orders[0]) == list(range(40))
    assert not np.array_equal(orders[0], orders[1])
    batches = client_batch_order(40, 16, 1, 11, 2)
    assert [len(b) for b in batches] == [16, 16, 8]
    np.testing.assert_array_equal(np.concatenate(batches), orders[0])


def test_no_retracing_and_memory_chunks_give_same_result(uneven, monkeypatch):
    engine = VectorisedEngine(uneven, ModelSpec("mlp", (6,)), seed=0)
    fit = FitConfig(local_epochs=1, batch_size=4, lr=0.1)
    start = np.tile(engine.initial_weights(), (3, 1))
    whole = engine.fit(start, [0, 1, 2], fit, round_seed=3)
    engine.fit(start[:1], [1], fit, round_seed=4)
    engine.fit(start[:2], [0, 2], FitConfig(batch_size=7, lr=0.1), round_seed=5)
    assert engine._train("sgd", False).experimental_get_tracing_count() == 1
    loss, acc = engine.evaluate_matrix(whole.weights)
    monkeypatch.setattr(vectorised, "MEMORY_BUDGET_FLOATS", 2000)  # forces 1 client/row chunks
    chunked = engine.fit(start, [0, 1, 2], fit, round_seed=3)
    np.testing.assert_allclose(chunked.weights, whole.weights, atol=1e-6, rtol=0)
    loss_c, acc_c = engine.evaluate_matrix(whole.weights)
    np.testing.assert_allclose(loss_c, loss, rtol=1e-5)
    np.testing.assert_allclose(acc_c, acc)


def test_empty_client_metadata_and_helpers():
    ds = make_dataset([9, 0, 4], test_sizes=[3, 2, 0], seed=6)
    engine = VectorisedEngine(ds, ModelSpec("mlp", (5,)), seed=0)
    start = np.tile(engine.initial_weights(), (3, 1))
    out = engine.fit(start, [0, 1, 2], FitConfig(batch_size=4, lr=0.1), round_seed=0)
    assert isinstance(out, FitOutput)
    assert out.num_examples.tolist() == [9, 0, 4] and out.num_examples.dtype == np.int64
    np.testing.assert_array_equal(out.weights[1], start[1])  # nothing to train on
    assert np.isnan(out.train_loss[1]) and out.finite.all()
    # last layer: Dense(5 -> 3) kernel + bias at the end of the flat vector
    sl = engine.last_layer_slice()
    assert (sl.start, sl.stop) == (engine.n_params - (5 * 3 + 3), engine.n_params)
    assert [name.split("/")[-1] for name, *_ in engine.layout] == ["kernel", "bias"] * 2
    model = engine.keras_model(out.weights[0])
    np.testing.assert_array_equal(get_flat_weights(model), out.weights[0])
    assert engine.initial_weights().dtype == np.float32
    # another seed: a different draw; the engine's own seed: its initial model
    other = engine.initial_weights(seed=123)
    assert other.shape == (engine.n_params,) and np.abs(other - engine.initial_weights()).max() > 0
    np.testing.assert_array_equal(engine.initial_weights(seed=0), engine.initial_weights())
    np.testing.assert_array_equal(engine.initial_weights(seed=123), other)


def test_bad_labels_and_features_name_the_client_and_row():
    ds = make_dataset([4, 4], seed=7)
    ds.y_train[1] = ds.y_train[1].copy()
    ds.y_train[1][2] = 3  # only 3 classes
    with pytest.raises(DataError, match=r"client 'c1', train row 2: label 3"):
        VectorisedEngine(ds, ModelSpec("logreg", ()))
    ds = make_dataset([4, 4], seed=7)
    ds.x_test[0][1, 0] = np.nan
    with pytest.raises(DataError, match=r"client 'c0', test row 1: features"):
        VectorisedEngine(ds, ModelSpec("logreg", ()))
    engine = VectorisedEngine(make_dataset([4, 4], seed=7), ModelSpec("logreg", ()))
    with pytest.raises(ConfigError, match="shape"):
        engine.fit(np.zeros((1, 3), np.float32), [0], FitConfig(), 0)


def test_broadcast_start_equals_tiled_start(uneven):
    engine = VectorisedEngine(uneven, ModelSpec("mlp", (8,)), seed=0)
    fit = FitConfig(local_epochs=2, batch_size=8, lr=0.1, prox_mu=0.1)
    w = engine.initial_weights()
    shared = engine.fit(np.broadcast_to(w, (3, w.size)), [0, 1, 2], fit, round_seed=1)
    tiled = engine.fit(np.tile(w, (3, 1)), [0, 1, 2], fit, round_seed=1)
    np.testing.assert_array_equal(shared.weights, tiled.weights)
    np.testing.assert_array_equal(shared.train_loss, tiled.train_loss)


def test_all_partial_last_batches_equal_keras_fit():
    # Every client's last batch holds 2 or 1 of 8 rows: the step is cut to width 2.
    engine = VectorisedEngine(make_dataset([10, 10, 9], seed=9), ModelSpec("mlp", (8,)), seed=0)
    run_rounds(engine, keras_fit_round, FitConfig(local_epochs=2, batch_size=8, lr=0.1),
               rounds=2)


def test_cache_blocks_and_indexed_starts_give_same_result(uneven, monkeypatch):
    """Clients trained in small cache blocks, from indexed start models, with per-client
    order seeds equal one call over all clients with stacked starts and one seed each."""
    engine = VectorisedEngine(uneven, ModelSpec("mlp", (6,)), seed=0)
    fit = FitConfig(local_epochs=2, batch_size=4, lr=0.1)
    models = np.stack([engine.initial_weights(), engine.initial_weights(seed=5)])
    index = np.array([1, 0, 1])
    whole = engine.fit(models[index], [0, 1, 2], fit, round_seed=3)
    monkeypatch.setattr(vectorised, "CACHE_BLOCK_FLOATS", 1)  # one client per block
    blocked = engine.fit_indexed(models, index, [0, 1, 2], fit, round_seed=[3, 3, 3])
    np.testing.assert_allclose(blocked.weights, whole.weights, atol=1e-6, rtol=0)
    np.testing.assert_allclose(blocked.train_loss, whole.train_loss, rtol=1e-6)
    # a client's order follows (its seed, its order id), not its position in the call
    alone = engine.fit(models[[0]], [1], fit, round_seed=9)
    mixed = engine.fit_indexed(models, [1, 0], [2, 1], fit, round_seed=[3, 9])
    np.testing.assert_allclose(mixed.weights[1], alone.weights[0], atol=1e-6, rtol=0)
    with pytest.raises(ConfigError, match="start_index"):
        engine.fit_indexed(models, [2, 0], [0, 1], fit, round_seed=1)


def test_engines_of_one_architecture_share_compiled_programs(uneven):
    """A new engine (grid cell) with the same model shape reuses the traced programs."""
    spec = ModelSpec("mlp", (6,))
    first = VectorisedEngine(uneven, spec, seed=0)
    other = VectorisedEngine(make_dataset([5, 7], seed=3), spec, seed=1)
    assert other._train is first._train and other._eval is first._eval
    fit = FitConfig(batch_size=4, lr=0.1)
    first.fit(np.tile(first.initial_weights(), (3, 1)), [0, 1, 2], fit, round_seed=1)
    other.fit(np.tile(other.initial_weights(), (2, 1)), [0, 1], fit, round_seed=2)
    assert first._train("sgd", False).experimental_get_tracing_count() == 1
    assert VectorisedEngine(uneven, ModelSpec("mlp", (7,)), seed=0)._train is not first._train
