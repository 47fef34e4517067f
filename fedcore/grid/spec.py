"""A benchmark grid: scenarios x methods x seeds, each cell one experiment spec.

The seed of a cell is both the data seed (split/scenario) and the model seed (initialisation,
sampling, shuffling) unless a fixed ``data_seed`` is given. A cell's id includes a short hash
of its full spec, so changing any setting makes new cells instead of silently reusing
results computed with other settings.

Fair-comparison protocol: a method that needs K runs once per K mode (``k_modes``, see
:mod:`fedcore.kmode`); with ``tune_seeds`` the methods of :data:`fedcore.grid.tuning.
TUNING_SPACES` are first run on those seeds over their search space, on a validation
split of the clients' train data (tuning cells, ``tune__...``), and the reported cells use
the chosen values.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from ..config import SimulationConfig
from ..errors import ConfigError
from ..kmode import K_PARAMS, needs_k, parse_k_modes

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
    k_mode: str | None = None
    tuning: bool = False


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
    k_modes : list of str
        ``"given"`` and/or ``"estimated"``: how methods that need K get it (one row per
        mode); a method whose ``n_clusters``/``estimate_k`` is set in ``method_params``
        runs once, as set.
    tune_seeds : list of int
        Seeds of the tuning runs (disjoint from ``seeds``); empty: no tuning.
    validation_fraction : float
        Share of each client's train split the tuning runs are scored on.
    standardisation : str
        Feature standardisation of every cell (``"auto"``: pooled for tabular data).
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
    k_modes: list = field(default_factory=lambda: ["given"])
    tune_seeds: list = field(default_factory=list)
    validation_fraction: float = 0.2
    standardisation: str = "auto"

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
        self.k_modes = parse_k_modes(self.k_modes)
        self.tune_seeds = [int(s) for s in self.tune_seeds]
        _check_tune_seeds(self.tune_seeds, self.seeds)
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
        from ..runner import ExperimentSpec

        for cell in self.tuning_cells() + self.cells():
            try:
                ExperimentSpec.from_dict(cell.spec).validate()
            except ConfigError as exc:
                raise ConfigError(f"grid cell {cell.scenario or NO_SCENARIO} x "
                                  f"{cell.method}: {exc}") from None
        return self

    def to_dict(self) -> dict:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> GridSpec:
        return cls(**copy.deepcopy(d))

    def cell_spec(self, scenario: str | None, method: str, seed: int,
                  k_mode: str | None = None, extra_params: dict | None = None,
                  tuning: bool = False) -> dict:
        """``ExperimentSpec.to_dict()`` of one cell; keys at their defaults are left out so
        grids made before they existed keep their cell ids."""
        config = copy.deepcopy(self.config)
        config["seed"] = int(seed)
        params = dict(self.scenario_params.get("*", {}))
        params.update(self.scenario_params.get(scenario, {}))
        spec = {
            "data": self.data, "method": method, "scenario": scenario,
            "n_clients": int(self.n_clients), "n_groups": int(self.n_groups),
            "samples_per_client": int(self.samples_per_client),
            "data_seed": int(seed if self.data_seed is None else self.data_seed),
            "scenario_params": params,
            "method_params": {**self.method_params.get(method, {}), **(extra_params or {})},
            "config": config,
        }
        if k_mode is not None:
            spec["k_mode"] = k_mode
        if self.standardisation != "auto":
            spec["standardisation"] = self.standardisation
        if tuning:
            spec["validation_fraction"] = float(self.validation_fraction)
        return spec

    def modes_for(self, method: str) -> list:
        """The K modes ``method`` runs in (``[None]``: no K mode applies)."""
        pinned = set(self.method_params.get(method, {})) & set(K_PARAMS)
        return list(self.k_modes) if needs_k(method) and not pinned else [None]

    def variants(self):
        """(scenario, method, k_mode) of every table row, in table order."""
        return [(s, m, k) for s in self.scenarios for m in self.methods
                for k in self.modes_for(m)]

    def cells(self, tuned: dict | None = None) -> list[GridCell]:
        """Every reported cell, scenario-major then method, K mode, seed.

        ``tuned`` maps ``(scenario, method, k_mode)`` to the chosen hyper-parameters.
        """
        out = []
        for scenario, method, k_mode in self.variants():
            extra = (tuned or {}).get((scenario, method, k_mode))
            for seed in self.seeds:
                spec = self.cell_spec(scenario, method, seed, k_mode, extra)
                out.append(GridCell(cell_id(spec), scenario, method, seed, spec, k_mode))
        return out

    def tuning_cells(self) -> list[GridCell]:
        """Every tuning cell: each candidate of each tuned variant on each tuning seed."""
        from .tuning import candidates

        out = []
        for scenario, method, k_mode in self.variants() if self.tune_seeds else []:
            for cand in candidates(method, k_mode, self.method_params.get(method, {})):
                for seed in self.tune_seeds:
                    spec = self.cell_spec(scenario, method, seed, k_mode, cand, tuning=True)
                    out.append(GridCell(cell_id(spec), scenario, method, seed, spec, k_mode,
                                        tuning=True))
        return out


def spec_hash(spec: dict) -> str:
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "x"


def cell_id(spec: dict) -> str:
    """``[tune__]<scenario>__<method>[-k<mode>]__seed<seed>__<hash8>`` (filesystem-safe)."""
    scenario = spec.get("scenario") or NO_SCENARIO
    seed = spec["config"].get("seed", 0)
    method = spec["method"] + (f"-k{spec['k_mode']}" if spec.get("k_mode") else "")
    prefix = "tune__" if spec.get("validation_fraction") else ""
    return f"{prefix}{_slug(scenario)}__{_slug(method)}__seed{seed}__{spec_hash(spec)}"


def _check_tune_seeds(tune_seeds: list, seeds: list) -> None:
    if len(set(tune_seeds)) != len(tune_seeds) or any(s < 0 for s in tune_seeds):
        raise ConfigError(f"--tune-seeds {tune_seeds}: give distinct seeds >= 0")
    shared = sorted(set(tune_seeds) & set(seeds))
    if shared:
        raise ConfigError(f"--tune-seeds must differ from the reported --seeds; both have "
                          f"{', '.join(map(str, shared))}")


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


def __getattr__(name):  # command-line builders moved to .argv; old imports keep working
    from . import argv
    if name in ("format_value", "config_to_argv", "spec_to_argv", "grid_to_argv"):
        return getattr(argv, name)
    raise AttributeError(name)
