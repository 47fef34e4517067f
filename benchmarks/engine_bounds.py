"""Measured bounds of the engine's round: how close it is to the machine, and what limits it.

Used by ``benchmarks/engine.py``. Every number is measured in the calling process, interleaved
with engine rounds (so a shared, loaded machine slows both alike) and summarised by the median
of per-pair ratios:

* ``% of peak``: the round's FLOPs at the speed of one 2048^3 float32 matmul, over the
  engine's time;
* block sweep: the same round with clients trained in blocks of different sizes
  (``CACHE_BLOCK_FLOATS``): large blocks stream every client's weights from memory at every
  step, small ones pay per-step overhead;
* kernel bound: ONLY the round's Dense matmuls (forward, weight and input gradients) at the
  engine's shapes -- batched (clients, 32, d_in) x (clients, d_in, d_out) products, no
  gather, softmax, masking or update. The engine cannot beat its own matmul kernels, so if
  these alone reach a low share of the big matmul's speed, the batch shapes (32-row
  batches, per-client weights) bound the engine there, not the surrounding code;
* update bound: the per-step SGD update passes ``w - g * lr`` over the block's weights.
"""

from __future__ import annotations

import time

import numpy as np


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _big_matmul():
    import tensorflow as tf
    a = tf.random.stateless_uniform((2048, 2048), seed=(0, 1))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, a).numpy()
    return lambda: matmul(a, a).numpy(), 2 * 2048 ** 3


def _dense_shapes(engine) -> list[tuple[int, int]]:
    return [(int(layer.kernel.shape[0]), int(layer.kernel.shape[1]))
            for layer in engine.model.layers if type(layer).__name__ == "Dense"]


def _kernel_program(shapes, block: int, batch: int, steps: int):
    """A tf.function doing only the Dense matmuls of ``steps`` steps for ``block`` clients."""
    import tensorflow as tf
    xs = [tf.random.stateless_uniform((block, batch, i), seed=(1, k))
          for k, (i, _) in enumerate(shapes)]
    ws = [tf.random.stateless_uniform((block, i, o), seed=(2, k))
          for k, (i, o) in enumerate(shapes)]
    ds = [tf.random.stateless_uniform((block, batch, o), seed=(3, k))
          for k, (_, o) in enumerate(shapes)]

    # Inputs are ARGUMENTS (captured constants would be folded away) and steps run in a
    # while_loop (identical unrolled steps would be merged as common subexpressions).
    @tf.function
    def program(xs, ws, ds):
        def step(s, total):
            for k, (x, w, d) in enumerate(zip(xs, ws, ds)):
                # One entry per product is kept: summing whole outputs would add a pass.
                total += tf.reduce_sum(tf.matmul(x, w)[:, 0, 0])  # forward
                total += tf.reduce_sum(tf.matmul(x, d, transpose_a=True)[:, 0, 0])  # dW
                if k:  # input gradient, except for the first layer (its input is data)
                    total += tf.reduce_sum(tf.matmul(d, w, transpose_b=True)[:, 0, 0])
            return s + 1, total

        return tf.while_loop(lambda s, _: s < steps, step, (0, tf.constant(0.0)),
                             parallel_iterations=1)[1]

    program(xs, ws, ds)
    return lambda: program(xs, ws, ds).numpy()


def _update_program(n_params: int, block: int, steps: int):
    import tensorflow as tf
    w = tf.random.stateless_uniform((block, n_params), seed=(4, 0))
    g = tf.random.stateless_uniform((block, n_params), seed=(4, 1))

    @tf.function
    def program(w, g):
        out = tf.while_loop(lambda s, _: s < steps, lambda s, v: (s + 1, v - g * 0.05),
                            (0, w), parallel_iterations=1)[1]
        return tf.reduce_sum(out[:, :1])

    program(w, g)
    return lambda: program(w, g).numpy()


def report_bounds(engine, round_fn, flops: float, fit, n_clients: int,
                  samples: int, repeats: int = 5, sweep=(1.0, 0.5, 0.34, 0.2, 0.1)) -> None:
    """Print % of peak (median of paired ratios), a block-size sweep and the kernel bounds.

    ``round_fn()`` runs one engine round of ``n_clients`` clients; ``flops`` is its work.
    """
    import fedcore.engine.vectorised as vectorised
    peak_fn, peak_flops = _big_matmul()
    default = vectorised.CACHE_BLOCK_FLOATS
    blocks = sorted({max(1, round(n_clients * f)) for f in sweep}, reverse=True)
    chosen = min(n_clients, max(1, default // engine.n_params))
    results = {b: [] for b in blocks}
    peaks = []
    try:
        for _ in range(repeats):
            for b in blocks:
                vectorised.CACHE_BLOCK_FLOATS = b * engine.n_params
                results[b].append(_timed(round_fn))
            peaks.append(peak_flops / _timed(peak_fn))
    finally:
        vectorised.CACHE_BLOCK_FLOATS = default
    peak = np.array(peaks)
    print(f"big matmul peak: median {np.median(peak) / 1e9:.0f} GFLOPS (range "
          f"{peak.min() / 1e9:.0f}-{peak.max() / 1e9:.0f}) -- measured between engine rounds")
    print(f"block sweep ({n_clients} clients, {repeats} interleaved repeats; % of peak = median "
          f"of per-repeat ratios; the engine's default block is {chosen}):")
    for b in blocks:
        t = np.array(results[b])
        share = np.median(flops / t / peak)
        print(f"  blocks of {b:4d} clients: median {np.median(t):.3f} s/round -> "
              f"{share:.0%} of peak" + ("   <- default" if abs(b - chosen) <= 1 else ""))
    shapes = _dense_shapes(engine)
    if len(shapes) != sum(type(la).__name__ in ("Dense", "Conv2D") for la in engine.model.layers):
        print("kernel bound: skipped (model has convolutions)")
        return
    steps = -(-samples // fit.batch_size) * fit.local_epochs
    block = min(chosen, n_clients)
    n_blocks = -(-n_clients // block)
    kernel = _kernel_program(shapes, block, fit.batch_size, steps)
    update = _update_program(engine.n_params, block, steps)
    k_times, u_times, k_peak = [], [], []
    for _ in range(repeats):
        k_times.append(_timed(kernel) * n_blocks)
        u_times.append(_timed(update) * n_blocks)
        k_peak.append(peak_flops / _timed(peak_fn))
    k_share = np.median(flops / np.array(k_times) / np.array(k_peak))
    print(f"kernel bound: the round's Dense matmuls alone, at the engine's shapes ({n_blocks} "
          f"blocks of {block} clients x {steps} steps x batch {fit.batch_size}): median "
          f"{np.median(k_times):.3f} s -> {k_share:.0%} of peak. The engine cannot exceed its "
          "own matmul kernels at these shapes.")
    print(f"update bound: {steps} SGD update passes over {n_clients} x {engine.n_params} "
          f"weights: median {np.median(u_times):.3f} s/round (elementwise, memory/cache bound)")
