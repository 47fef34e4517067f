"""A benchmark grid: scenarios x methods x seeds, each cell one experiment spec.

The seed of a cell is both the data seed (split/scenario) and the model seed (initialisation,
sampling, shuffling) unless a fixed ``data_seed`` is given. A cell's id includes a short hash
of its full spec, so changing any setting makes new cells instead of silently reusing
results computed with other settings.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from ..config import SimulationConfig
from ..errors import ConfigError

NO_SCENARIO = "none"


@dataclass(frozen=True)
class GridCell:
    """One (scenario, method, seed) experiment of a grid.

    Attributes
    ----------
    cell_id : str
        Directory name under ``GRID/cells/``: ``<scenario>__<method>__seed<seed>__<hash8>``.
    spec : dict
        ``ExperimentSpec.to_dict()`` layout.
    """

    cell_id: str
    scenario: str | None
    method: str
    seed: int
    spec: dict


@dataclass
class GridSpec:
    """What to run; :meth:`cells` expands it.

    Parameters
    ----------
    data : str
        Bundled dataset name or file path.
    scenarios : list of str or None
        Scenario names (None or ``"none"``: the data's natural clients).
    methods : list of str
    seeds : list of int
    n_clients, n_groups, samples_per_client : int
    data_seed : int or None
        Fixed data seed for every cell (default: the cell's seed).
    scenario_params : dict
        ``{scenario: {key: value}}``; key ``"*"`` applies to every scenario.
    method_params : dict
        ``{method: {key: value}}``.
    config : dict
        ``SimulationConfig.to_dict()`` (its ``seed`` is replaced per cell).
    """

    data: str
    scenarios: list
    methods: list
    seeds: list
    n_clients: int = 20
    n_groups: int = 4
    samples_per_client: int = 100
    data_seed: int | None = None
    scenario_params: dict = field(default_factory=dict)
    method_params: dict = field(default_factory=dict)
    config: dict = field(default_factory=lambda: SimulationConfig().to_dict())

    def __post_init__(self):
        self.scenarios = [None if s in (None, "", NO_SCENARIO) else str(s)
                          for s in self.scenarios]
        self.methods = [str(m) for m in self.methods]
        self.seeds = [int(s) for s in self.seeds]
        for name, values in (("scenarios", self.scenarios), ("methods", self.methods),
                             ("seeds", self.seeds)):
            if not values:
                raise ConfigError(f"grid needs at least one of {name}")
            if len(set(values)) != len(values):
                raise ConfigError(f"grid {name} contain duplicates: {values}")
        SimulationConfig.from_dict(self.config)  # validates early, with ConfigError
        unknown = set(self.method_params) - set(self.methods)
        if unknown:
            raise ConfigError(f"--param for method(s) not in the grid: {sorted(unknown)}")
        unknown = set(self.scenario_params) - set(self.scenarios) - {"*"}
        if unknown:
            raise ConfigError(f"parameters for scenario(s) not in the grid: {sorted(unknown)}")

    def validate(self) -> GridSpec:
        """Check every cell's method, scenario and parameters before any cell runs.

        Raises
        ------
        ConfigError
            One line naming the first bad cell and what is wrong with it.
        """
        from ..registries import check_overrides

        for cell in self.cells():
            try:
                check_overrides("method", cell.method, cell.spec["method_params"])
                check_overrides("scenario", cell.scenario, cell.spec["scenario_params"])
            except ConfigError as exc:
                raise ConfigError(f"grid cell {cell.scenario or NO_SCENARIO} x "
                                  f"{cell.method}: {exc}") from None
        return self

    def to_dict(self) -> dict:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> GridSpec:
        return cls(**copy.deepcopy(d))

    def cell_spec(self, scenario: str | None, method: str, seed: int) -> dict:
        config = copy.deepcopy(self.config)
        config["seed"] = int(seed)
        params = dict(self.scenario_params.get("*", {}))
        params.update(self.scenario_params.get(scenario, {}))
        return {
            "data": self.data, "method": method, "scenario": scenario,
            "n_clients": int(self.n_clients), "n_groups": int(self.n_groups),
            "samples_per_client": int(self.samples_per_client),
            "data_seed": int(seed if self.data_seed is None else self.data_seed),
            "scenario_params": params,
            "method_params": dict(self.method_params.get(method, {})),
            "config": config,
        }

    def cells(self) -> list[GridCell]:
        """Every cell, scenario-major then method then seed."""
        out = []
        for scenario in self.scenarios:
            for method in self.methods:
                for seed in self.seeds:
                    spec = self.cell_spec(scenario, method, seed)
                    out.append(GridCell(cell_id(spec), scenario, method, seed, spec))
        return out


def spec_hash(spec: dict) -> str:
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "x"


def cell_id(spec: dict) -> str:
    """``<scenario>__<method>__seed<seed>__<hash8>`` (filesystem-safe)."""
    scenario = spec.get("scenario") or NO_SCENARIO
    seed = spec["config"].get("seed", 0)
    return f"{_slug(scenario)}__{_slug(spec['method'])}__seed{seed}__{spec_hash(spec)}"


def parse_grid_params(items: list[str], methods: list[str],
                      scenarios: list[str | None]) -> tuple[dict, dict]:
    """``["ifca.k=4", "rotation.angle=90"]`` -> (method_params, scenario_params).

    The prefix before the first dot names a method or a scenario of the grid; the value is
    typed by that entry's parameter schema (an unknown key or a bad value is an error).
    """
    from ..registries import parse_params

    method_params: dict = {}
    scenario_params: dict = {}
    for item in items:
        head, sep, value = item.partition("=")
        prefix, dot, key = head.partition(".")
        if not sep or not dot or not key:
            raise ConfigError(f"--param {item!r}: expected NAME.KEY=VALUE where NAME is a "
                              "method or scenario of the grid, e.g. ifca.k=4")
        prefix, key = prefix.strip(), key.strip()
        if prefix in methods:
            method_params.setdefault(prefix, {}).update(
                parse_params("method", prefix, f"{key}={value}"))
        elif prefix in scenarios:
            scenario_params.setdefault(prefix, {}).update(
                parse_params("scenario", prefix, f"{key}={value}"))
        else:
            raise ConfigError(f"--param {item!r}: {prefix!r} is not a method "
                              f"({', '.join(methods)}) or scenario of this grid")
    return method_params, scenario_params


def parse_common_params(items: list[str], scenarios: list[str | None]) -> dict:
    """``--scenario-param KEY=VALUE`` for every scenario of the grid: each scenario must have
    the parameter (typed by the first scenario's schema, checked against all)."""
    from ..registries import parse_params

    common: dict = {}
    for scenario in reversed(scenarios):
        common = parse_params("scenario", scenario, items)
    return common


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
    for key, value in grid.scenario_params.get("*", {}).items():
        argv += ["--scenario-param", f"{key}={format_value(value)}"]
    for owner in (grid.scenario_params, grid.method_params):
        for name, params in owner.items():
            if name == "*":
                continue
            for key, value in params.items():
                argv += ["--param", f"{name}.{key}={format_value(value)}"]
    return argv + config_to_argv(grid.config)
