"""Benchmark: a fixed 24-cell grid, cells one after another vs lockstep batches, same process.

Grid: mnist_5k; rotation and label-swap; fedavg, kmeans, ifca, cfl; seeds 0, 1, 2; 20 clients
x 200 samples, 4 groups; 20 rounds; MLP 784-200-10, batch 32, 1 epoch, SGD lr 0.05.

Paths, all in this process:

* ``baseline``: the pre-lockstep grid path -- every cell alone through
  :func:`fedcore.grid.executors.run_spec`, compiled programs traced again for each cell (the
  program cache is cleared before each cell, as every cell's fresh engine did before);
* ``sequential``: cells one after another, compiled programs reused across cells;
* ``lockstep``: all cells in lockstep batches (:mod:`fedcore.grid.lockstep`), one engine
  call per round for every cell of a batch;
* ``grid command``: what ``python -m fedcore grid`` does -- :func:`run_cells` with lockstep
  batches on ``--workers`` processes (default 2), results stored and read back.

Prints seconds, ratios, cells per minute, the training floor (the engine's pure ``fit`` time
summed over the cells of the sequential path, i.e. what the cells' training alone costs), the
lockstep path's own fit and evaluation time, and checks that all paths give the same summaries
(assignments identical, metrics equal to 1e-6).

Usage: ``python benchmarks/grid.py [--quick] [--batch-cells N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from fedcore.config import FitConfig, ModelSpec, SimulationConfig  # noqa: E402
from fedcore.grid.batches import plan_batches  # noqa: E402
from fedcore.grid.executors import GRID_REPRESENTATION_FLOATS  # noqa: E402
from fedcore.grid.spec import GridSpec  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flops import call_flops, matmul_peak_gflops  # noqa: E402

METRICS = ("mean_accuracy", "worst_accuracy", "mean_loss", "train_loss", "n_clusters")


def benchmark_grid(quick: bool) -> GridSpec:
    config = SimulationConfig(rounds=5 if quick else 20, model=ModelSpec("mlp", (200,)),
                              fit=FitConfig(local_epochs=1, batch_size=32, lr=0.05))
    return GridSpec(data="mnist_5k", scenarios=["rotation", "label-swap"],
                    methods=["fedavg", "kmeans", "ifca", "cfl"],
                    seeds=[0] if quick else [0, 1, 2], n_clients=20, n_groups=4,
                    samples_per_client=200, config=config.to_dict())


class EngineTimer:
    """Sums the wall time and the minimal FLOPs (:mod:`flops`) of the engine's training and
    evaluation calls while active."""

    # Every training call (``fit``, ``fit_indexed``, a lockstep ``fit_many``) ends in fit_groups.
    METHODS = {"fit": ("fit_groups",), "evaluate": ("evaluate_matrix", "evaluate_own")}

    def __init__(self):
        from fedcore.engine.vectorised import VectorisedEngine
        self.cls, self.originals = VectorisedEngine, {}
        self.seconds = dict.fromkeys(self.METHODS, 0.0)
        self.flops = dict.fromkeys(self.METHODS, 0.0)

    def _wrap(self, kind, name, original):
        def timed(engine, *args, **kwargs):
            self.flops[kind] += call_flops(name, engine, args, kwargs)
            t0 = time.perf_counter()
            try:
                return original(engine, *args, **kwargs)
            finally:
                self.seconds[kind] += time.perf_counter() - t0
        return timed

    def __enter__(self):
        for kind, names in self.METHODS.items():
            for name in names:
                self.originals[name] = getattr(self.cls, name)
                setattr(self.cls, name, self._wrap(kind, name, self.originals[name]))
        return self

    def __exit__(self, *exc):
        for name, original in self.originals.items():
            setattr(self.cls, name, original)


def run_one_by_one(cells, retrace: bool) -> tuple[float, dict, dict]:
    """(seconds, engine seconds by kind, {cell_id: summary}) of the cells run alone."""
    from fedcore.engine.programs import clear_program_cache
    from fedcore.grid.executors import run_spec
    out = {}
    t0 = time.perf_counter()
    with EngineTimer() as timer:
        for cell in cells:
            if retrace:
                clear_program_cache()
            out[cell.cell_id] = run_spec(cell.spec)[1]
    return time.perf_counter() - t0, {**timer.seconds, "flops": timer.flops}, out


def run_lockstep(cells, batch_cells: int | None) -> tuple[float, dict, dict, int]:
    from fedcore.grid.lockstep import run_specs_lockstep
    batches = plan_batches(cells, batch_cells)
    out = {}
    t0 = time.perf_counter()
    with EngineTimer() as timer:
        for batch in batches:
            specs = [c.spec for c in batch]
            for cell, res in zip(batch, run_specs_lockstep(specs, GRID_REPRESENTATION_FLOATS)):
                if isinstance(res, str):
                    raise RuntimeError(f"{cell.cell_id} failed:\n{res}")
                out[cell.cell_id] = res[1]
    return (time.perf_counter() - t0, {**timer.seconds, "flops": timer.flops}, out,
            len(batches))


def run_grid_command_path(cells, workers: int) -> tuple[float, dict]:
    """The ``python -m fedcore grid`` path: run_cells with lockstep batches on ``workers``
    processes, results saved to (and read back from) a temporary grid directory."""
    import json
    import tempfile

    from fedcore.grid.executors import run_cells
    with tempfile.TemporaryDirectory(prefix="grid-bench-") as tmp:
        t0 = time.perf_counter()
        report = run_cells(cells, tmp, workers=workers)
        sec = time.perf_counter() - t0
        if report.failed:
            raise RuntimeError(f"cells failed: {report.failed}")
        out = {c.cell_id: json.loads((Path(tmp) / "cells" / c.cell_id / "summary.json")
                                     .read_text()) for c in cells}
    return sec, out


def compare(reference: dict, other: dict) -> tuple[bool, float]:
    """(assignments identical everywhere, largest metric difference)."""
    same, worst = True, 0.0
    for cid, ref in reference.items():
        got = other[cid]
        same &= ref["assignments"] == got["assignments"]
        for key in ("mean_client_accuracy", "worst_client_accuracy", "ari"):
            if ref[key] is not None:
                worst = max(worst, abs(ref[key] - got[key]))
        for a, b in zip(ref["rounds"], got["rounds"]):
            for key in METRICS:
                if a[key] is not None:
                    worst = max(worst, abs(a[key] - b[key]))
        accs = [(ref["client_accuracy"][c], got["client_accuracy"][c])
                for c in ref["client_accuracy"]]
        worst = max([worst] + [abs(a - b) for a, b in accs if a is not None])
    return same, worst


def compute_floor(times: dict, flops: dict) -> None:
    """Print the grid's compute floor: its minimal FLOPs at this machine's matmul peak.

    No path that does the grid's training and evaluation can be faster than this on this
    machine, so ``baseline / floor`` is the largest speed ratio any path could show.
    """
    peak = matmul_peak_gflops() * 1e9
    total = flops["fit"] + flops["evaluate"]
    floor = total / peak
    print(f"compute floor: the grid's engine work is {total / 1e12:.2f} TFLOP (training "
          f"{flops['fit'] / 1e12:.2f}, evaluation {flops['evaluate'] / 1e12:.2f}; minimal "
          f"multiply-adds, benchmarks/flops.py); at this process's 2048^3 matmul peak "
          f"({peak / 1e9:.0f} GFLOPS) that is >= {floor:.1f} s. Lockstep runs at "
          f"{floor / times['lockstep']:.0%} of that peak overall.")
    for name in ("baseline", "sequential"):
        if name in times:
            print(f"largest speed ratio any path doing this work could reach vs {name}: "
                  f"{times[name] / floor:.1f}x ({name} / compute floor)")


def load_note() -> str:
    try:
        return f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except OSError:
        return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 5 rounds (8 cells)")
    parser.add_argument("--batch-cells", type=int, default=None,
                        help="cells per lockstep batch (default: automatic)")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes of the grid-command path (0: skip that path)")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="only the sequential (programs reused) and lockstep paths")
    args = parser.parse_args(argv)
    grid = benchmark_grid(args.quick)
    cells = grid.cells()
    rounds = grid.config["rounds"]
    print(f"grid benchmark: {len(cells)} cells x {rounds} rounds ({load_note()})")
    from fedcore.data.bundled import load_bundled
    load_bundled("mnist_5k")  # read the bundled CSV once, outside every timing
    from fedcore.engine.vectorised import VectorisedEngine  # noqa: F401  (TF import untimed)

    times = {}
    if not args.skip_baseline:
        sec, engine_sec, base = run_one_by_one(cells, retrace=True)
        times["baseline"] = sec
        print(f"baseline (cells one by one, programs traced per cell): {sec:.1f} s "
              f"({60 * len(cells) / sec:.1f} cells/min; engine fit {engine_sec['fit']:.1f} s "
              f"incl. tracing, evaluation {engine_sec['evaluate']:.1f} s)")
    sec, engine_sec, seq = run_one_by_one(cells, retrace=False)
    times["sequential"] = sec
    floor = engine_sec["fit"]
    print(f"sequential (cells one by one, programs reused): {sec:.1f} s "
          f"({60 * len(cells) / sec:.1f} cells/min; engine evaluation "
          f"{engine_sec['evaluate']:.1f} s)")
    print(f"training floor (engine fit time summed over the cells, 20 clients per call): "
          f"{floor:.1f} s")
    sec, engine_sec, lock, n_batches = run_lockstep(cells, args.batch_cells)
    times["lockstep"] = sec
    rest = sec - engine_sec["fit"] - engine_sec["evaluate"]
    print(f"lockstep ({n_batches} batch(es)): {sec:.1f} s ({60 * len(cells) / sec:.1f} "
          f"cells/min; its batched fit calls {engine_sec['fit']:.1f} s, engine evaluation "
          f"{engine_sec['evaluate']:.1f} s (the strategies' loss matrices, per-round "
          f"evaluation and loss profiles), the rest {rest:.1f} s "
          "(strategies' numpy/sklearn work, data, summaries))")
    compute_floor(times, engine_sec["flops"])
    paths = [("sequential", seq), ("lockstep", lock)]
    if args.workers:
        sec, grid_out = run_grid_command_path(cells, args.workers)
        times["grid"] = sec
        paths.append(("grid command", grid_out))
        print(f"grid command path (run_cells, lockstep batches on {args.workers} worker "
              f"processes, results stored): {sec:.1f} s ({60 * len(cells) / sec:.1f} cells/min)")
    reference = seq if args.skip_baseline else base
    for name, other in paths:
        same, worst = compare(reference, other)
        print(f"equality {name} vs {'sequential' if args.skip_baseline else 'baseline'}: "
              f"assignments identical: {same}; largest metric difference {worst:.2e} "
              f"({'OK' if same and worst <= 1e-6 else 'MISMATCH'})")
    if "baseline" in times:
        print(f"SPEED RATIO baseline / lockstep: {times['baseline'] / times['lockstep']:.1f}x")
        if "grid" in times:
            print(f"SPEED RATIO baseline / grid command path: "
                  f"{times['baseline'] / times['grid']:.1f}x")
    print(f"SPEED RATIO sequential / lockstep: {times['sequential'] / times['lockstep']:.1f}x")
    print(f"lockstep / training floor: {times['lockstep'] / floor:.2f}x")
    print(f"benchmark end ({load_note()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
