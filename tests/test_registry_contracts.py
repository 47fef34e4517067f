"""One contract test per registry: every entry the UI lists is well-formed and works with its
own defaults (the UI builds its widgets from these schemas, so a broken entry is a broken page)."""

import numpy as np
import pytest

from fedcore import params
from fedcore.clustering import CLUSTERERS, recluster
from fedcore.data import BUNDLED
from fedcore.embeddings import EMBEDDERS, embed
from fedcore.explain import EXPLAINERS
from fedcore.params import Param
from fedcore.partition import SCENARIOS
from fedcore.results import Representation
from fedcore.strategies import STRATEGIES


def check_schema(owner: str, schema: dict) -> dict:
    """Every parameter is a Param with a help text whose default validates unchanged."""
    for name, spec in schema.items():
        where = f"{owner}.{name}"
        assert isinstance(spec, Param), f"{where} is not a Param"
        assert spec.help, f"{where} has no help text"
        assert isinstance(spec.default, spec.type), f"{where}: default is not a {spec.type}"
        if spec.min is not None and spec.max is not None:
            assert spec.min <= spec.max, where
    defaults = params.defaults(schema)
    assert params.validate(schema, defaults, owner) == defaults, owner
    assert params.validate(schema, {}, owner) == defaults, owner
    return defaults


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_strategy_entries(name):
    cls = STRATEGIES[name]
    assert cls.name == name and cls.paper and cls.__doc__
    defaults = check_schema(name, cls.param_schema)
    assert cls(**defaults).get_params() == defaults


def test_method_colours_live_on_the_registry_and_differ():
    from fedcore.plots.performance_plots import method_color
    colors = [cls.color for cls in STRATEGIES.values()]
    assert all(c and c.startswith("#") for c in colors) and len(set(colors)) == len(colors)
    for name, cls in STRATEGIES.items():
        assert method_color(name) == method_color(f"{name} @ run-1") == cls.color


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_entries(name):
    from fedcore.partition import make_scenario
    entry = SCENARIOS[name]
    assert entry.name == name and entry.description
    check_schema(name, entry.params)
    pool = BUNDLED[{"natural": "heart", "forecasting": "nox"}.get(name, "digits")].loader()
    ds = make_scenario(pool, name, n_clients=4, n_groups=2, samples_per_client=30, seed=1)
    assert ds.n_clients >= 2 and min(ds.train_sizes()) >= 1 and min(ds.test_sizes()) >= 1
    assert entry.tasks and set(entry.tasks) <= {"classification", "regression"}


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_entries(name):
    entry = BUNDLED[name]
    assert entry.name == name and entry.licence and entry.source and entry.task
    pool = entry.loader()
    assert len(pool.X) == len(pool.y) and pool.X.shape[1] == len(pool.feature_names)
    assert np.isfinite(pool.X).all() and pool.task == entry.kind
    if pool.task == "classification":
        assert set(np.unique(pool.y)) <= set(range(len(pool.label_names)))
    else:
        assert pool.y.dtype == np.float32 and np.isfinite(pool.y).all()
        assert len(pool.label_names) == 1
    assert (pool.client_column is not None) == entry.natural_clients
    assert entry.default_scenario in SCENARIOS
    SCENARIOS[entry.default_scenario].check_pool(pool)


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 0.1, (8, 5)), rng.normal(5, 0.1, (8, 5))])
    return Representation("weights", X=X), np.repeat([0, 1], 8)


@pytest.mark.parametrize("name", list(CLUSTERERS))
def test_clusterer_entries(name):
    entry = CLUSTERERS[name]
    assert entry.name == name and entry.description
    defaults = check_schema(name, entry.params)
    rep, truth = blobs()
    labels = recluster(rep, name, {**defaults, **({"n_clusters": 2} if "n_clusters" in defaults
                                                  else {})})
    assert labels.shape == (16,) and labels.dtype.kind == "i"
    # Two far-apart blobs: no cluster may mix them, whatever the method.
    for k in set(labels) - {-1}:
        assert len(set(truth[labels == k])) == 1, name


@pytest.mark.parametrize("name", [n for n in EMBEDDERS if n != "umap"])
def test_embedder_entries(name):
    entry = EMBEDDERS[name]
    assert entry.name == name
    defaults = check_schema(name, entry.params)
    rep, _ = blobs()
    df, info = embed(rep, name, seed=0, **defaults)
    assert len(df) == 16 and {"x", "y"} <= set(df.columns)
    assert np.isfinite(df[["x", "y"]].to_numpy()).all()


def test_umap_entry_schema():
    check_schema("umap", EMBEDDERS["umap"].params)


@pytest.mark.parametrize("name", list(EXPLAINERS))
def test_explainer_entries(name):
    entry = EXPLAINERS[name]
    assert entry.name == name and entry.title and entry.description and callable(entry.function)
    check_schema(name, entry.params)


def test_cli_commands_all_register():
    from fedcore.cli import COMMANDS, build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


def test_figure_entries():
    from fedcore.figure_sources import PACKS
    from fedcore.plots import FIGURES

    for name, entry in FIGURES.items():
        assert entry.name == name and callable(entry.plot)
        assert all(spec.pack in PACKS and callable(spec.data) for spec in entry.exports)
    for pack in PACKS:
        files = [s.file_name for e in FIGURES.values() for s in e.exports if s.pack == pack]
        assert files and len(files) == len(set(files)), pack
