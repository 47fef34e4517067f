"""The vectorised engine equals plain per-client Keras training and evaluation.

References: ``keras.Model.fit`` (fresh optimizer per client and round, data in the
engine's ``batch_order``, ``shuffle=False``) for SGD/Adam, a manual ``GradientTape`` loop
with Keras optimizers for FedProx. Several FedAvg rounds, uneven client sizes.
"""

import numpy as np
import pytest
from engine_support import CE, keras_fit_round, make_dataset, run_rounds, tape_round

import fedcore.engine.vectorised as vectorised
from fedcore.config import FitConfig, ModelSpec
from fedcore.engine import FitOutput, VectorisedEngine
from fedcore.engine.batching import client_batch_order
from fedcore.errors import ConfigError, DataError
from fedcore.models import get_flat_weights


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
