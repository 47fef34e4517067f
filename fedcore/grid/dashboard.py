"""What the dashboard's Grids page computes: grid specs from form values, the grids on disk,
mean +- std tables, LaTeX tables and a ZIP of the grid figures. Pure Python (no streamlit).

Tables and figures come from the same builders as :func:`fedcore.grid.write_grid_outputs`
(:mod:`fedcore.grid.aggregate`), so a file downloaded from the dashboard equals the one
``python -m fedcore grid`` writes.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from ..config import FitConfig, ModelSpec, SimulationConfig
from ..errors import ConfigError
from ..store import is_complete
from .aggregate import METRIC_LABELS, figure_size, grid_figures
from .argv import grid_to_argv
from .spec import GridSpec, parse_grid_params

#: Sub-directory of the runs root holding the grids launched from the dashboard.
GRIDS_DIR = "grids"
FORMATS = ("pdf", "svg", "png")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def grid_dir(root: str | Path, name: str) -> Path:
    """``root/grids/<name>``; ``name`` must be a plain folder name (no path, no dot first)."""
    name = str(name).strip()
    if not _NAME.match(name):
        raise ConfigError(f"grid name {name!r}: use letters, digits, '.', '-' or '_' "
                          "(at most 80, not starting with '.')")
    return Path(root) / GRIDS_DIR / name


def parse_seeds(text: str) -> list[int]:
    """``"0, 1,2"`` -> ``[0, 1, 2]``."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"seeds {text!r}: expected integers like 0,1,2") from None
    if not seeds or any(s < 0 for s in seeds):
        raise ConfigError(f"seeds {text!r}: give at least one seed, each >= 0")
    return seeds


def parse_param_lines(text: str) -> list[str]:
    """One ``NAME.KEY=VALUE`` per line (blank lines and ``#`` comments ignored)."""
    lines = (line.split("#", 1)[0].strip() for line in str(text or "").splitlines())
    return [line for line in lines if line]


def source_param_lines(source: dict) -> str:
    """The scenario parameters of a bundled data source as ``scenario.key=value`` lines."""
    scenario = source.get("scenario")
    return "\n".join(f"{scenario}.{k}={v}" for k, v in (source.get("params") or {}).items()
                     if scenario and v not in ("", None))


def build_grid(data: str, scenarios: list[str], methods: list[str], seeds: list[int],
               n_clients: int, n_groups: int, samples_per_client: int, rounds: int,
               model: str = "mlp", hidden: tuple[int, ...] = (200,), lr: float = 0.05,
               local_epochs: int = 1, batch_size: int = 32, data_seed: int | None = None,
               params: list[str] | None = None, k_modes=("given",),
               tune_seeds=(), loss: str = "auto", huber_delta: float = 1.0) -> GridSpec:
    """A :class:`GridSpec` from the dashboard form (same defaults as ``fedcore grid``).

    ``params`` are ``NAME.KEY=VALUE`` items where NAME is a method or a scenario of the grid;
    ``k_modes`` and ``tune_seeds`` are ``--k`` and ``--tune-seeds``; ``loss`` and
    ``huber_delta`` are ``--loss`` and ``--huber-delta`` (a loss that does not fit a bundled
    dataset's task is refused here, before any cell runs).
    """
    if not scenarios or not methods:
        raise ConfigError("choose at least one scenario and one method")
    method_params, scenario_params = parse_grid_params(list(params or []), list(methods),
                                                       list(scenarios))
    config = SimulationConfig(rounds=int(rounds),
                              model=ModelSpec(kind=model,
                                              hidden=() if model == "logreg" else hidden),
                              fit=FitConfig(local_epochs=int(local_epochs),
                                            batch_size=int(batch_size), lr=float(lr),
                                            loss=loss, huber_delta=float(huber_delta)))
    from ..data import BUNDLED
    if data in BUNDLED:
        config.fit.loss_for(BUNDLED[data].kind)
    return GridSpec(data=data, scenarios=list(scenarios), methods=list(methods),
                    seeds=list(seeds), n_clients=int(n_clients), n_groups=int(n_groups),
                    samples_per_client=int(samples_per_client), data_seed=data_seed,
                    scenario_params=scenario_params, method_params=method_params,
                    config=config.to_dict(), k_modes=list(k_modes),
                    tune_seeds=list(tune_seeds)).validate()


def grid_command(grid: GridSpec, out_dir: str | Path) -> list[str]:
    """The ``python -m fedcore`` arguments that run (or resume) the same grid."""
    return ["grid", *grid_to_argv(grid), "--out", str(out_dir)]


def read_meta(path: str | Path) -> dict:
    """``grid.json`` of a grid directory (empty dict when missing or unreadable)."""
    try:
        return json.loads((Path(path) / "grid.json").read_text())
    except (OSError, ValueError):
        return {}


def cell_status(path: str | Path, meta: dict | None = None) -> dict:
    """``{"total", "complete", "failed"}`` over the cells listed in ``grid.json``."""
    path = Path(path)
    cells = (meta if meta is not None else read_meta(path)).get("cells") or []
    complete = sum(is_complete(path / "cells" / c) for c in cells)
    failed = sum((path / "cells" / c / "error.txt").is_file()
                 and not is_complete(path / "cells" / c) for c in cells)
    return {"total": len(cells), "complete": complete, "failed": failed}


def failed_errors(path: str | Path) -> dict[str, str]:
    """Failed cell of this grid -> the last line of its ``error.txt``."""
    path = Path(path)
    out = {}
    for cell in read_meta(path).get("cells") or []:
        err = path / "cells" / cell / "error.txt"
        if err.is_file() and not is_complete(err.parent):
            lines = [x for x in err.read_text(errors="replace").splitlines() if x.strip()]
            out[cell] = lines[-1] if lines else "(empty error.txt)"
    return out


def find_grids(root: str | Path) -> list[Path]:
    """Grid directories (holding ``grid.json``) up to two levels below ``root``, newest
    first: ``root/grids/<name>`` from the dashboard and e.g. ``root/<name>`` from the CLI."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = {p.parent for pattern in ("grid.json", "*/grid.json", "*/*/grid.json")
             for p in root.glob(pattern)
             if not any(part.startswith(".") for part in p.relative_to(root).parts)}
    return sorted(found, key=lambda p: (p / "grid.json").stat().st_mtime, reverse=True)


def list_grids(root: str | Path) -> pd.DataFrame:
    """One row per grid under ``root``: where it is, what it runs, how many cells are done."""
    rows = []
    root = Path(root)
    for path in find_grids(root):
        meta = read_meta(path)
        grid = meta.get("grid") or {}
        rows.append({"grid": str(path.relative_to(root)) if path != root else ".",
                     "data": grid.get("data"),
                     "scenarios": ", ".join(str(s or "none") for s in grid.get("scenarios", [])),
                     "methods": ", ".join(grid.get("methods", [])),
                     "seeds": ", ".join(str(s) for s in grid.get("seeds", [])),
                     **cell_status(path, meta), "path": str(path)})
    return pd.DataFrame(rows, columns=["grid", "data", "scenarios", "methods", "seeds",
                                       "total", "complete", "failed", "path"])


def signature(path: str | Path) -> tuple:
    """Changes whenever a cell finishes or the grid is re-launched (a cache key)."""
    path = Path(path)
    meta = path / "grid.json"
    done = sorted(p.parent.name for p in (path / "cells").glob("*/summary.json"))
    return (meta.stat().st_mtime_ns if meta.is_file() else 0, tuple(done))


def comparison_frame(tidy: pd.DataFrame, metric: str = "mean_client_accuracy",
                     decimals: int = 3) -> pd.DataFrame:
    """Methods x scenarios of ``"mean ± std"`` strings over seeds (``"--"`` if no value)."""
    from ..export.tables import mean_std_table

    row = "variant" if "variant" in tidy else "method"
    means, stds = mean_std_table(tidy, value=metric, row=row)

    def cell(m, s):
        if pd.isna(m):
            return "--"
        return f"{m:.{decimals}f}" + ("" if pd.isna(s) else f" ± {s:.{decimals}f}")

    out = pd.DataFrame({c: [cell(means.at[r, c], stds.at[r, c]) for r in means.index]
                        for c in means.columns}, index=means.index)
    out.index.name = "method"
    return out


def summary_display(tidy: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario x method [K mode]: accuracy, worst, ARI and Δ vs FedAvg."""
    from .stats import display_frame, summary_frame
    return display_frame(summary_frame(tidy))


def figures_zip(tidy: pd.DataFrame, formats=FORMATS, figure_kwargs: dict | None = None
                ) -> bytes:
    """ZIP of every grid figure in ``formats`` (default PDF, SVG, PNG) plus its CSV data."""
    from ..export.figures import export_figure

    if tidy.empty:
        raise ConfigError("the grid has no finished cells yet: no figures to export")
    kwargs = figure_size(tidy) | dict(figure_kwargs or {})
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="fedlens_grid_figs_") as tmp, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (fig, data) in grid_figures(tidy).items():
            for path in export_figure(fig, data, tmp, name, formats=tuple(formats), **kwargs):
                zf.write(path, arcname=f"figures/{Path(path).name}")
    return buf.getvalue()


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)
