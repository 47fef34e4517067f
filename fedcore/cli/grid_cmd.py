"""``python -m fedcore grid``: scenarios x methods x seeds, resumable, local pool or Ray.

Example::

    python -m fedcore grid --data digits --scenarios rotation,label-swap \\
        --methods fedavg,kmeans,ifca,cfl --seeds 0,1,2 --k given,estimated \\
        --tune-seeds 100,101 --rounds 10 --out results/g1

Fair-comparison options: ``--k`` (how methods that need K get it, one table row per
mode), ``--tune-seeds`` (hyper-parameters chosen on other seeds, on validation data; see
:mod:`fedcore.grid.tuning`), ``--standardisation`` (pooled or per-client statistics).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import ConfigError
from .run_cmd import add_standardisation_argument, add_training_arguments, config_from_args


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(",") if t.strip()]


def _int_list(text: str, flag: str) -> list[int]:
    try:
        return [int(t) for t in _csv_list(text)]
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: expected integers like 0,1,2") from None


def register(sub) -> None:
    p = sub.add_parser("grid", help="benchmark grid: scenarios x methods x seeds")
    p.add_argument("--data", required=True, help="bundled dataset name or a file path")
    p.add_argument("--scenarios", default="none",
                   help="comma-separated scenarios ('none' = the data's natural clients)")
    p.add_argument("--methods", required=True, help="comma-separated methods")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (data + model seed)")
    p.add_argument("--data-seed", type=int, default=None,
                   help="fixed data-split seed for every cell (default: the cell's seed)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--groups", type=int, default=4)
    p.add_argument("--samples", type=int, default=100, help="samples per client")
    p.add_argument("--scenario-param", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter for every scenario (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="NAME.KEY=VALUE",
                   help="method or scenario parameter, e.g. label-swap.n_pairs=2 (repeatable)")
    p.add_argument("--k", default="given",
                   help="how methods that need K get it: given (the true number of groups, "
                        "marked 'K given (oracle)'), estimated (estimate_k=true), or "
                        "given,estimated (one row each)")
    p.add_argument("--tune-seeds", default="",
                   help="seeds of the hyper-parameter tuning runs (disjoint from --seeds), "
                        "scored on a validation split of the train data, e.g. 100,101")
    p.add_argument("--validation-fraction", type=float, default=0.2,
                   help="share of each client's train split the tuning runs are scored on")
    add_standardisation_argument(p)
    add_training_arguments(p)
    p.add_argument("--executor", default="local", choices=["local", "ray"])
    p.add_argument("--ray-address", default=None, help="existing Ray cluster (default: local)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes / Ray CPUs (default: CPU cores; 0 = in this process)")
    p.add_argument("--batch-cells", type=int, default=None, metavar="N",
                   help="cells trained together in lockstep per task (one engine call per "
                        "round for all of them; results equal each cell run alone); "
                        "default: automatic; 1 = one cell at a time")
    p.add_argument("--keep-representations", action="store_true",
                   help="store every cell's full client representations (weights, updates; "
                        "large) instead of only the small ones")
    p.add_argument("--formats", default="pdf,svg,png",
                   help="figure formats, comma-separated ('none' for no figures)")
    p.add_argument("--out", required=True, help="grid directory (re-run to resume)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def grid_from_args(args):
    from ..grid import GridSpec, parse_grid_params
    from ..grid.spec import parse_common_params

    scenarios = [None if s == "none" else s for s in _csv_list(args.scenarios)]
    methods = _csv_list(args.methods)
    method_params, scenario_params = parse_grid_params(args.param, methods, scenarios)
    common = parse_common_params(args.scenario_param, scenarios)
    if common:
        scenario_params["*"] = common
    args.seed = 0  # replaced per cell by GridSpec
    config = config_from_args(args).to_dict()
    return GridSpec(data=args.data, scenarios=scenarios, methods=methods,
                    seeds=_int_list(args.seeds, "--seeds"), n_clients=args.clients,
                    n_groups=args.groups, samples_per_client=args.samples,
                    data_seed=args.data_seed, scenario_params=scenario_params,
                    method_params=method_params, config=config, k_modes=args.k.split(","),
                    tune_seeds=_int_list(args.tune_seeds, "--tune-seeds"),
                    validation_fraction=args.validation_fraction,
                    standardisation=args.standardisation).validate()


def run(args) -> int:
    from ..grid import collect_results, run_grid
    from ..grid.aggregate import grid_notes
    from ..grid.argv import grid_to_argv
    from ..grid.executors import CounterProgress
    from ..grid.stats import summary_frame, text_report

    grid = grid_from_args(args)
    formats = [] if args.formats.strip() == "none" else _csv_list(args.formats)
    command = ["grid", *grid_to_argv(grid), "--out", str(args.out)]
    report = run_grid(grid, Path(args.out), executor=args.executor, workers=args.workers,
                      ray_address=args.ray_address, formats=formats,
                      progress=CounterProgress(enabled=not args.quiet), command=command,
                      keep_representations=args.keep_representations,
                      batch_cells=args.batch_cells)
    if not args.quiet:
        print(text_report(summary_frame(collect_results(args.out)), grid_notes(args.out)))
    print(json.dumps({"out": str(args.out), **report.to_dict()}))
    for cell in report.failed:
        print(f"failed: {cell} (see {Path(args.out) / 'cells' / cell / 'error.txt'})",
              file=sys.stderr)
    return 1 if report.failed else 0
