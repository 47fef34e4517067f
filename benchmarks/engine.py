"""Benchmark: vectorised engine vs a per-client ``keras.Model.fit`` loop (FedAvg rounds).

Workload: MLP 784-200-10, clients x 200 samples (synthetic 784-feature data with a
linear teacher, or ``--data mnist_5k`` rows sampled per client), batch 32, 1 local epoch,
SGD lr 0.05, FedAvg between rounds. Prints seconds per round for both, the speed ratio,
the first-call (tracing) time, a hardware floor (the round's FLOPs at the speed of one
large matmul in this process, i.e. how far the engine is from the machine's limit), the
measured bounds of ``engine_bounds.py`` (block-size sweep, kernel and update bounds), and
the engine's scaling over 10/100/1000 clients.

Usage: ``python benchmarks/engine.py [--quick] [--data synthetic|mnist_5k]
[--model mlp|logreg|cnn] [--max-clients N]``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before any test imports TensorFlow directly (see fedcore/__init__.py for why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fedcore.config import FitConfig, ModelSpec  # noqa: E402
from fedcore.dataset import FederatedDataset  # noqa: E402
from fedcore.engine import VectorisedEngine  # noqa: E402
from fedcore.models import get_flat_weights, set_flat_weights  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flops import matmul_peak_gflops, sample_flops  # noqa: E402

MODELS = {"mlp": ModelSpec("mlp", (200,)), "logreg": ModelSpec("logreg", ()),
          "cnn": ModelSpec("cnn", (64,))}
FIT = FitConfig(local_epochs=1, batch_size=32, lr=0.05, optimizer="sgd")


def make_dataset(n_clients: int, n_samples: int, source: str, seed: int = 0):
    """``n_clients`` clients of ``n_samples`` train and ``n_samples // 4`` test rows each."""
    rng = np.random.default_rng(seed)
    n_test = max(n_samples // 4, 1)
    if source == "mnist_5k":
        with gzip.open(ROOT / "data" / "mnist_5k.csv.gz", "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float32)
        pool_x, pool_y = table[:, :-1] / 255.0, table[:, -1].astype(np.int64)
        if pool_x.shape[1] != 784:  # label first instead of last
            pool_x, pool_y = table[:, 1:] / 255.0, table[:, 0].astype(np.int64)
        picks = [rng.choice(len(pool_y), n_samples + n_test) for _ in range(n_clients)]
        xs, ys = [pool_x[p] for p in picks], [pool_y[p] for p in picks]
    else:
        teacher = rng.normal(size=(784, 10)).astype(np.float32)
        xs = [rng.random((n_samples + n_test, 784), dtype=np.float32) for _ in range(n_clients)]
        ys = [np.argmax(x @ teacher + rng.normal(size=(len(x), 10)), axis=1) for x in xs]
    return FederatedDataset(
        client_ids=[f"c{i}" for i in range(n_clients)],
        x_train=[x[:n_samples] for x in xs], y_train=[y[:n_samples] for y in ys],
        x_test=[x[n_samples:] for x in xs], y_test=[y[n_samples:] for y in ys],
        feature_names=[f"px{j}" for j in range(784)], label_names=[str(k) for k in range(10)],
        input_shape=(28, 28, 1), name=f"bench-{source}")


def fedavg(out) -> np.ndarray:
    # float32 product: a float64 copy of 1000 x 159k weights would cost 1.3 GB
    share = (out.num_examples / out.num_examples.sum()).astype(np.float32)
    return share @ out.weights


def engine_rounds(engine, n_rounds: int) -> tuple[float, list[float]]:
    """(first-call seconds, seconds of each later round) of FedAvg through the engine."""
    clients = np.arange(engine.dataset.n_clients)
    w = engine.initial_weights()
    times = []
    for r in range(n_rounds + 1):
        t0 = time.perf_counter()
        out = engine.fit(np.broadcast_to(w, (len(clients), w.size)), clients, FIT, r)
        w = fedavg(out)
        times.append(time.perf_counter() - t0)
    return times[0], times[1:]


def load_note() -> str:
    """The 1-minute load average: other processes on a shared machine inflate timings."""
    try:
        return f"(1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    except OSError:
        return ""


def keras_rounds(engine, n_rounds: int, compile_per_client: bool) -> tuple[float, list[float]]:
    """The same rounds with one ``model.fit`` per client (same data order).

    ``compile_per_client`` gives every client a fresh optimizer (what a simulator does
    for stateful optimizers; Keras then re-traces its train step); otherwise one compiled
    model is reused (valid for plain SGD, which has no optimizer state).
    """
    ds = engine.dataset
    model = engine.keras_model(engine.initial_weights())
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(FIT.lr), loss=loss)
    w = engine.initial_weights()
    times = []
    for r in range(n_rounds + 1):
        t0 = time.perf_counter()
        new = []
        for c in range(ds.n_clients):
            set_flat_weights(model, w)
            if compile_per_client:
                model.compile(optimizer=keras.optimizers.SGD(FIT.lr), loss=loss)
            (order,) = engine.batch_order(c, r, 1)
            model.fit(ds.x_train[c][order], ds.y_train[c][order], batch_size=FIT.batch_size,
                      shuffle=False, epochs=1, verbose=0)
            new.append(get_flat_weights(model))
        n = ds.train_sizes().astype(np.float64)
        w = (n @ np.stack(new).astype(np.float64) / n.sum()).astype(np.float32)
        times.append(time.perf_counter() - t0)
    return times[0], times[1:]


def memory_gbps(n_floats: int = 2 ** 24, repeats: int = 5) -> float:
    """Best GB/s of ``a + b`` over two 64 MB float32 tensors (2 reads + 1 write)."""
    import tensorflow as tf

    a = tf.random.stateless_uniform((n_floats,), seed=(0, 2))
    add = tf.function(tf.add)
    add(a, a).numpy()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        add(a, a).numpy()
        best = min(best, time.perf_counter() - t0)
    return 3 * 4 * n_floats / best / 1e9


def round_flops(engine, samples_per_client: int, n_clients: int) -> float:
    """Minimal FLOPs of one round (see :mod:`flops`): forward, weight and needed input
    gradients of every sample; padded batch slots are NOT counted."""
    return sample_flops(engine.model)[0] * samples_per_client * n_clients * FIT.local_epochs


def hardware_floor(engine, eng_best: float, keras_round: float) -> None:
    """Print two lower bounds of a round: FLOPs at matmul peak, weight traffic at memory speed.

    Both are measured in this process (same threads, same machine load) right after the
    engine's rounds, so the ratios say how close the engine is to this machine's limits.
    """
    peak = matmul_peak_gflops()
    flops = round_flops(engine, 200, 100)
    floor = flops / (peak * 1e9)
    print(f"hardware floor: one 2048^3 float32 matmul runs at {peak:.0f} GFLOPS; a round needs "
          f"{flops / 1e9:.2f} GFLOP (forward + weight + input gradients, 100 clients x 200 "
          f"samples) -> >= {floor:.3f} s/round at that peak; the engine reaches "
          f"{flops / eng_best / 1e9:.0f} GFLOPS ({floor / eng_best:.0%} of peak, "
          f"{eng_best / floor:.1f}x the floor); best possible ratio vs the keras loop "
          f"(compiled once): {keras_round / floor:.0f}x")
    # Each step must at least read every client's weights (forward) and read + write them
    # (update): 3 passes over C x P floats, whatever the FLOP rate.
    gbps = memory_gbps()
    steps = -(-200 // FIT.batch_size) * FIT.local_epochs
    mem_floor = steps * 3 * 4 * 100 * engine.n_params / (gbps * 1e9)
    print(f"memory floor: {gbps:.1f} GB/s (a + b on 64 MB tensors); {steps} steps x 3 passes "
          f"over 100 x {engine.n_params} weights -> >= {mem_floor:.3f} s/round "
          f"(engine {eng_best / mem_floor:.1f}x that)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, no 1000 clients")
    parser.add_argument("--data", default="synthetic", choices=["synthetic", "mnist_5k"])
    parser.add_argument("--model", default="mlp", choices=sorted(MODELS),
                        help="mlp = 784-200-10 (the reference workload)")
    parser.add_argument("--max-clients", type=int, default=1000,
                        help="largest client count of the scaling run")
    args = parser.parse_args(argv)
    spec = MODELS[args.model]
    rounds = 2 if args.quick else 5
    keras_clients = 20 if args.quick else 100
    print(f"benchmark start: model {args.model}, data {args.data} {load_note()}")
    print("times are wall seconds; 'best' = minimum over rounds (least disturbed by other "
          "processes), 'median' in brackets")

    ds = make_dataset(100, 200, args.data)
    t0 = time.perf_counter()
    engine = VectorisedEngine(ds, spec, seed=0)
    print(f"engine setup (build model, preprocess data): {time.perf_counter() - t0:.2f} s")
    first, eng_times = engine_rounds(engine, rounds)
    print(f"engine first call (tracing + 1 round): {first:.2f} s")

    sub = make_dataset(keras_clients, 200, args.data) if keras_clients != 100 else ds
    sub_engine = engine if sub is ds else VectorisedEngine(sub, spec, seed=0)
    keras_best = {}
    for per_client in (False, True):
        k_first, k_later = keras_rounds(sub_engine, 1, per_client)
        keras_best[per_client] = min(k_later) * 100 / keras_clients
        print(f"keras fit loop ({'compile per client' if per_client else 'compiled once'}): "
              f"first round {k_first:.2f} s, then {keras_best[per_client]:.3f} s/round for 100 "
              "clients" + (f" (measured on {keras_clients}, scaled)"
                           if keras_clients != 100 else ""))
    # Engine again after the (long) keras loops, so both saw similar machine load.
    eng_times += engine_rounds(engine, rounds)[1]
    eng_best = min(eng_times)
    print(f"vectorised engine, 100 clients: best {eng_best:.4f} s/round "
          f"(median {np.median(eng_times):.4f})")
    for per_client, k_round in keras_best.items():
        label = "compile per client" if per_client else "compiled once"
        print(f"SPEED RATIO keras loop ({label}) / engine: {k_round / eng_best:.0f}x")
    hardware_floor(engine, eng_best, keras_best[False])
    from engine_bounds import report_bounds
    start = np.broadcast_to(engine.initial_weights(), (100, engine.n_params))
    report_bounds(engine, partial(engine.fit, start, np.arange(100), FIT, 1),
                  round_flops(engine, 200, 100), FIT, 100, 200, repeats=3 if args.quick else 5)

    models = np.stack([engine.initial_weights()] * 5)
    t0 = time.perf_counter()
    engine.evaluate_matrix(models)
    first = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        engine.evaluate_matrix(models)
        times.append(time.perf_counter() - t0)
    print(f"evaluate_matrix 5 models x 100 clients (50 test rows each): best {min(times):.4f} s "
          f"(first call {first:.2f} s)")
    own = np.broadcast_to(engine.initial_weights(), (100, engine.n_params))
    engine.evaluate_own(own, np.arange(100))
    t0 = time.perf_counter()
    engine.evaluate_own(own, np.arange(100))
    print(f"evaluate_own 100 clients: {time.perf_counter() - t0:.4f} s")

    del sub_engine, engine, ds, sub  # free memory before the 1000-client run
    sizes = [n for n in (10, 100, 1000) if n <= args.max_clients]
    for n_clients in (sizes[:2] if args.quick else sizes):
        if n_clients == 100:
            print(f"scaling:   100 clients: best {eng_best:.4f} s/round (see above)")
            continue
        eng = VectorisedEngine(make_dataset(n_clients, 200, args.data), spec, seed=0)
        first, times = engine_rounds(eng, rounds)
        print(f"scaling: {n_clients:5d} clients: best {min(times):.4f} s/round "
              f"(median {np.median(times):.4f}; first call {first:.2f} s)")
        del eng
    print(f"benchmark end {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
