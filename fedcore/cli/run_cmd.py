"""``python -m fedcore run``: one method on one dataset/scenario, headless."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ..config import LOSSES, FitConfig, ModelSpec, SimulationConfig
from ..errors import ConfigError
from ..partition import SCENARIOS


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate one method and write DIR/summary.json")
    add_experiment_arguments(p)
    p.add_argument("--method", required=True, help="fedavg, local, oracle, flhc, kmeans, cfl, "
                                                   "ifca, fesem, fedgroup, pacfl")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="method hyper-parameter (repeatable)")
    p.add_argument("--k", default=None, choices=["given", "estimated"],
                   help="for methods that need K: the true number of groups (given) or "
                        "estimate_k=true (estimated); default: the method's parameters")
    p.add_argument("--validation-fraction", type=float, default=0.0,
                   help="tuning run: train on the rest of each client's train split and "
                        "evaluate on this share of it (no test data); 0 = test split")
    add_standardisation_argument(p)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_experiment_arguments(p) -> None:
    """Data, scenario and training options shared by ``run`` and ``grid``."""
    p.add_argument("--data", required=True, help="bundled dataset name or a file path")
    p.add_argument("--scenario", default=None,
                   help=", ".join(SCENARIOS) + " (default for datasets with natural clients: "
                        "the dataset's own, e.g. natural or forecasting)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--groups", type=int, default=4)
    p.add_argument("--samples", type=int, default=100, help="samples per client")
    p.add_argument("--scenario-param", action="append", default=[], metavar="KEY=VALUE")
    add_training_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="model init / sampling / shuffling seed")
    p.add_argument("--data-seed", type=int, default=None,
                   help="data split seed (defaults to --seed)")


def add_standardisation_argument(p) -> None:
    p.add_argument("--standardisation", default="auto",
                   choices=["auto", "pooled", "per-client", "none"],
                   help="feature standardisation with train statistics: pooled over clients "
                        "(auto for tabular data; = one aggregation round of client sums), "
                        "per-client (no statistics leave a client) or none")


def add_training_arguments(p) -> None:
    """Model and local-training options shared by ``run`` and ``grid``."""
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--local-epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    p.add_argument("--prox-mu", type=float, default=0.0)
    p.add_argument("--loss", default="auto", choices=list(LOSSES),
                   help="training loss: auto = cross-entropy for classification, MSE for "
                        "regression; huber needs a regression dataset")
    p.add_argument("--huber-delta", type=float, default=1.0,
                   help="where the Huber loss turns linear (with --loss huber), in "
                   "standard deviations of the training targets (losses are on "
                   "standardised targets)")
    p.add_argument("--fraction-fit", type=float, default=1.0)
    p.add_argument("--model", default="mlp", choices=["logreg", "mlp", "cnn"])
    p.add_argument("--hidden", default="200", help="comma-separated hidden sizes, e.g. 200,100")


def config_from_args(args) -> SimulationConfig:
    try:
        hidden = tuple(int(h) for h in str(args.hidden).split(",") if h.strip())
    except ValueError:
        raise ConfigError(f"--hidden {args.hidden!r}: expected integers like 200,100") from None
    if any(h < 1 for h in hidden):
        raise ConfigError(f"--hidden {args.hidden!r}: every hidden layer needs at least one "
                          "unit (e.g. 200 or 200,100; omit hidden layers with --model logreg)")
    return SimulationConfig(
        rounds=args.rounds, fraction_fit=args.fraction_fit, seed=args.seed,
        model=ModelSpec(kind=args.model, hidden=hidden),
        fit=FitConfig(local_epochs=args.local_epochs, batch_size=args.batch, lr=args.lr,
                      optimizer=args.optimizer, prox_mu=args.prox_mu,
                      loss=getattr(args, "loss", "auto"),
                      huber_delta=getattr(args, "huber_delta", 1.0)))


def spec_from_args(args, method: str, method_params: dict):
    """The run's ExperimentSpec; ``--scenario-param`` text is typed by the scenario's schema."""
    from ..registries import parse_params
    from ..runner import ExperimentSpec
    return ExperimentSpec(
        data=args.data, method=method, scenario=args.scenario, n_clients=args.clients,
        n_groups=args.groups, samples_per_client=args.samples,
        data_seed=args.seed if args.data_seed is None else args.data_seed,
        scenario_params=parse_params("scenario", args.scenario, args.scenario_param),
        method_params=method_params, config=config_from_args(args),
        k_mode=getattr(args, "k", None),
        standardisation=getattr(args, "standardisation", "auto"),
        validation_fraction=getattr(args, "validation_fraction", 0.0))


class TerminalProgress:
    """A one-line progress bar on stderr: ``[ifca] round 3/10 ####---- acc 0.812``
    (``rmse 0.412`` on a regression task)."""

    def __init__(self, label: str, enabled: bool = True, width: int = 24):
        self.label, self.enabled, self.width = label, enabled, width

    def __call__(self, r: int, total: int, metrics: dict) -> None:
        if not self.enabled:
            return
        filled = int(self.width * r / total)
        bar = "#" * filled + "-" * (self.width - filled)
        score = (f"rmse {metrics['mean_rmse']:.3f}" if "mean_rmse" in metrics else
                 f"acc {metrics.get('mean_accuracy', float('nan')):.3f}")
        sys.stderr.write(f"\r[{self.label}] round {r}/{total} {bar} {score}")
        if r == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


#: Test-only: a file path; after round 1 the run creates it and waits there until killed,
#: so interruption tests signal a run that is certainly mid-way (never sleep-and-hope).
TEST_BARRIER_ENV = "FEDLENS_TEST_BARRIER"


def with_test_barrier(progress):
    """``progress`` that stops at the barrier named by ``$FEDLENS_TEST_BARRIER``, if set."""
    barrier = os.environ.get(TEST_BARRIER_ENV)
    if not barrier:
        return progress

    def stop_after_round_1(r: int, total: int, metrics: dict) -> None:
        progress(r, total, metrics)
        if r == 1:
            Path(barrier).touch()
            while True:
                time.sleep(0.1)

    return stop_after_round_1


def run(args) -> int:
    from ..registries import parse_params
    from ..runner import run_experiment, summary_dict
    from ..store import save_run
    # Every parameter is checked before the data is loaded or TensorFlow starts.
    spec = spec_from_args(args, args.method,
                          parse_params("method", args.method, args.param)).validate()
    progress = with_test_barrier(TerminalProgress(args.method, enabled=not args.quiet))
    dataset, result = run_experiment(spec, progress=progress)
    summary = summary_dict(spec, dataset, result)
    out = save_run(Path(args.out), spec.to_dict(), summary, result)
    scores = [k for k in summary if k.startswith("mean_client_")]
    print(json.dumps({"out": str(out), "method": summary["method"], "ari": summary["ari"],
                      **{k: summary[k] for k in scores}}))
    for line in result.errors[:20]:
        print(f"warning: {line}", file=sys.stderr)
    return 0
