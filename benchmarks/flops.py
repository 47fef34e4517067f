"""The minimal work of the engine's calls, in FLOPs: what ANY implementation must compute.

Shared by ``engine.py`` (one round's hardware floor) and ``grid.py`` (a whole grid's compute
floor). Per sample, each Dense/Conv2D layer costs ``2 * MACs`` forward, the same for its
weight gradient, and the same again for its input gradient except the first weighted layer
(its input is data). Bias adds, activations, the loss and the optimiser update are ignored
(O(outputs) or O(parameters), not O(MACs)); padded batch slots an engine may run are not
counted. A time computed from these FLOPs at the machine's matmul peak is therefore a lower
bound no code path can beat on that machine.
"""

from __future__ import annotations

import time

import numpy as np


def sample_flops(model) -> tuple[float, float]:
    """(training, forward-only) FLOPs per sample of a built Keras ``model``."""
    train, forward, first = 0, 0, True
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            macs = int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
        elif kind == "Conv2D":
            kh, kw, cin, cout = (int(s) for s in layer.kernel.shape)
            macs = int(np.prod(layer.output.shape[1:3])) * kh * kw * cin * cout
        else:
            continue
        forward += 2 * macs
        train += 2 * macs * (2 if first else 3)
        first = False
    return float(train), float(forward)


def _n_models(models) -> int:
    arr = np.asarray(models)
    return 1 if arr.ndim == 1 else int(arr.shape[0])


def _rows(engine, clients, split: str) -> int:
    sizes = engine._split(split).sizes  # noqa: SLF001 - a benchmark reads the engine's layout
    if clients is None:
        return int(sizes.sum())
    return int(sizes[np.asarray(clients, dtype=np.int64).reshape(-1)].sum())


def call_flops(name: str, engine, args: tuple, kwargs: dict) -> float:
    """FLOPs of one call of a :class:`~fedcore.engine.VectorisedEngine` method.

    ``fit_groups(models, start_index, clients, fit, ...)``: every client's training samples,
    ``fit.local_epochs`` times; ``evaluate_matrix(models, clients, split)``: every model on
    every selected client's samples; ``evaluate_own(weights, clients, split)``: each client
    once.
    """
    train_ps, forward_ps = sample_flops(engine.model)
    if name == "fit_groups":
        clients, fit = args[2], args[3]
        return train_ps * _rows(engine, clients, "train") * fit.local_epochs
    split = kwargs.get("split", args[2] if len(args) > 2 else "test")
    if name == "evaluate_matrix":
        clients = kwargs.get("clients", args[1] if len(args) > 1 else None)
        return forward_ps * _n_models(args[0]) * _rows(engine, clients, split)
    if name == "evaluate_own":
        clients = kwargs.get("clients", args[1] if len(args) > 1 else None)
        return forward_ps * _rows(engine, clients, split)
    raise ValueError(f"no FLOP count for {name}")


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOPS of one large (n x n) @ (n x n) float32 matmul: the machine's practical peak."""
    import tensorflow as tf

    a = tf.random.stateless_uniform((n, n), seed=(0, 1))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, a).numpy()  # trace and warm up
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        matmul(a, a).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9
