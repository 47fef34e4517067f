"""Command lines from specs: the ``python -m fedcore run`` / ``grid`` arguments that re-create
a run or a grid (``grid.json`` -> ``reproduce.sh``, the Grids page's command box)."""

from __future__ import annotations

from .spec import NO_SCENARIO, GridSpec


def format_value(value) -> str:
    """Inverse of :func:`fedcore.params.parse` for the values a spec holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def config_to_argv(config: dict) -> list[str]:
    """``SimulationConfig.to_dict()`` -> the training flags shared by ``run`` and ``grid``."""
    fit, model = config.get("fit", {}), config.get("model", {})
    argv = ["--rounds", str(config.get("rounds", 10)),
            "--local-epochs", str(fit.get("local_epochs", 1)),
            "--lr", format_value(float(fit.get("lr", 0.05))),
            "--batch", str(fit.get("batch_size", 32)),
            "--optimizer", str(fit.get("optimizer", "sgd")),
            "--prox-mu", format_value(float(fit.get("prox_mu", 0.0))),
            "--fraction-fit", format_value(float(config.get("fraction_fit", 1.0))),
            "--model", str(model.get("kind", "mlp"))]
    if fit.get("loss", "auto") != "auto":
        argv += ["--loss", str(fit["loss"])]
    if "huber_delta" in fit:
        argv += ["--huber-delta", format_value(float(fit["huber_delta"]))]
    hidden = model.get("hidden", [200])
    if hidden:
        argv += ["--hidden", ",".join(str(h) for h in hidden)]
    return argv


def spec_to_argv(spec: dict) -> list[str]:
    """``ExperimentSpec.to_dict()`` -> arguments of ``python -m fedcore run`` (without --out)."""
    argv = ["--data", str(spec["data"])]
    if spec.get("scenario"):
        argv += ["--scenario", str(spec["scenario"])]
    argv += ["--clients", str(spec["n_clients"]), "--groups", str(spec["n_groups"]),
             "--samples", str(spec["samples_per_client"])]
    for key, value in spec.get("scenario_params", {}).items():
        argv += ["--scenario-param", f"{key}={format_value(value)}"]
    argv += ["--method", str(spec["method"])]
    for key, value in spec.get("method_params", {}).items():
        argv += ["--param", f"{key}={format_value(value)}"]
    argv += config_to_argv(spec["config"])
    argv += ["--seed", str(spec["config"].get("seed", 0)),
             "--data-seed", str(spec.get("data_seed", 0))]
    if spec.get("k_mode"):
        argv += ["--k", str(spec["k_mode"])]
    if spec.get("standardisation", "auto") != "auto":
        argv += ["--standardisation", str(spec["standardisation"])]
    if spec.get("validation_fraction"):
        argv += ["--validation-fraction", format_value(float(spec["validation_fraction"]))]
    return argv


def grid_to_argv(grid: GridSpec) -> list[str]:
    """A GridSpec -> arguments of ``python -m fedcore grid`` (without --out)."""
    argv = ["--data", str(grid.data),
            "--scenarios", ",".join(s or NO_SCENARIO for s in grid.scenarios),
            "--methods", ",".join(grid.methods),
            "--seeds", ",".join(str(s) for s in grid.seeds),
            "--clients", str(grid.n_clients), "--groups", str(grid.n_groups),
            "--samples", str(grid.samples_per_client)]
    if grid.data_seed is not None:
        argv += ["--data-seed", str(grid.data_seed)]
    argv += ["--k", ",".join(grid.k_modes)]
    if grid.tune_seeds:
        argv += ["--tune-seeds", ",".join(str(s) for s in grid.tune_seeds),
                 "--validation-fraction", format_value(float(grid.validation_fraction))]
    if grid.standardisation != "auto":
        argv += ["--standardisation", grid.standardisation]
    for key, value in grid.scenario_params.get("*", {}).items():
        argv += ["--scenario-param", f"{key}={format_value(value)}"]
    for owner in (grid.scenario_params, grid.method_params):
        for name, params in owner.items():
            if name == "*":
                continue
            for key, value in params.items():
                argv += ["--param", f"{name}.{key}={format_value(value)}"]
    return argv + config_to_argv(grid.config)
