"""Shared helpers of the engine tests: tiny datasets and the per-client Keras / GradientTape
reference loops the vectorised engine must equal."""

import keras
import numpy as np
import tensorflow as tf

from fedcore.dataset import FederatedDataset
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
