"""Benchmark grids: scenarios x methods x seeds, resumable, on a process pool or Ray.

Layout of a grid directory::

    GRID/
      grid.json          GridSpec, the reported and tuning cell ids, the chosen
                         hyper-parameters ("tuning"), the command that made it
      cells/<cell_id>/   one run directory per cell (fedcore.store layout); a failed cell
                         holds only error.txt and is retried by the next invocation;
                         tuning cells are named tune__...
      results.csv        tidy, one row per reported cell (``TIDY_COLUMNS``)
      results.parquet
      summary.csv        one row per scenario x method [K mode]: mean, std, paired
                         difference to FedAvg with its 95% t-interval
      table.tex          mean +- std over seeds, methods x scenarios (booktabs);
                         table_worst.tex, table_ari.tex, table_diff.tex likewise
      figures/           grid_<metric>.{pdf,svg,png,csv}
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from ..provenance import package_versions
from ..store_atomic import write_text_atomic
from .aggregate import collect_results, failed_cells, write_grid_outputs
from .executors import DEFAULT_BACKEND, GRID_REPRESENTATION_FLOATS, GridReport, run_cells
from .spec import GridCell, GridSpec, parse_grid_params

__all__ = ["DEFAULT_BACKEND", "GridCell", "GridReport", "GridSpec", "collect_results",
           "failed_cells", "parse_grid_params", "run_cells", "run_grid", "write_grid_outputs"]


def run_grid(grid: GridSpec, out_dir: str | Path, executor: str = "local",
             workers: int | None = None, ray_address: str | None = None,
             backend: str = DEFAULT_BACKEND, progress=None, formats=("pdf", "svg", "png"),
             command: list[str] | None = None,
             keep_representations: bool = False,
             batch_cells: int | None = None) -> GridReport:
    """Run (or resume) a grid and write its tidy results, tables and figures.

    Parameters
    ----------
    grid : GridSpec
    out_dir : path
    executor, workers, ray_address, backend, progress
        See :func:`fedcore.grid.executors.run_cells`.
    formats : sequence of str
        Figure formats (empty: no figures, e.g. without Chromium).
    command : list of str, optional
        The ``python -m fedcore grid ...`` arguments, stored for ``reproduce.sh``.
    batch_cells : int, optional
        Cells per lockstep batch (see :func:`~fedcore.grid.executors.run_cells`); default
        automatic.
    keep_representations : bool
        Store every client representation of every cell (large); by default cells keep
        only the small ones (last layer, loss profile, data summary, principal angles).
    """
    from .tuning import choose, tuned_params

    grid.validate()  # every cell, before anything is written or started
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"grid": grid.to_dict(), "cells": [], "command": command,
            "versions": package_versions(),
            "tuning_cells": [c.cell_id for c in grid.tuning_cells()], "tuning": []}
    run = functools.partial(run_cells, out_dir=out_dir, executor=executor, workers=workers,
                            ray_address=ray_address, backend=backend, progress=progress,
                            max_representation_floats=None if keep_representations
                            else GRID_REPRESENTATION_FLOATS, batch_cells=batch_cells)
    tuning = GridReport()
    if meta["tuning_cells"]:
        _write_meta(out_dir, meta)
        tuning = run(grid.tuning_cells())
        meta["tuning"] = choose(grid, out_dir)
    cells = grid.cells(tuned_params(meta["tuning"]))
    meta["cells"] = [c.cell_id for c in cells]
    _write_meta(out_dir, meta)
    report = run(cells)
    report.total += tuning.total
    report.skipped += tuning.skipped
    report.computed += tuning.computed
    report.failed = tuning.failed + report.failed
    report.seconds += tuning.seconds
    tidy = collect_results(out_dir, meta["cells"])
    write_grid_outputs(out_dir, tidy, formats=formats)
    return report


def _write_meta(out_dir: Path, meta: dict) -> None:
    write_text_atomic(out_dir / "grid.json", json.dumps(meta, indent=2) + "\n")
