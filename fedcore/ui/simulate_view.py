"""Simulate page controller: the run form, running methods with progress, result tables."""

from __future__ import annotations

import numpy as np
import streamlit as st

from fedcore.config import FitConfig, ModelSpec, SimulationConfig

from . import state
from .errors import show_error
from .forms import loss_widgets, parse_ints, schema_widgets
from .progress import method_progress
from .results_view import (
    delete_controls,
    learning_curves,
    results_table,
    results_tables,
    rounds_frame,
)
from .task_metrics import dataset_caption, score_text

__all__ = ["run_form", "validate_methods", "run_methods", "leave_guard", "error_text",
           "n_true_groups", "results_table", "results_tables", "rounds_frame",
           "learning_curves", "delete_controls", "DEFAULT_METHODS", "dataset_caption"]

DEFAULT_METHODS = ["fedavg", "flhc"]

#: Strategy parameters that set the number of clusters (what "use the known number of
#: groups" fills in).
K_PARAMS = ("n_clusters", "k")


def run_form(n_clients: int, is_image: bool = False, n_true_groups: int | None = None,
             task: str = "classification") -> tuple | None:
    """The simulation form; returns ``(config, {method: params}, oracle methods)`` when
    submitted and every method's parameters are valid (else one error, nothing started).

    ``enter_to_submit=False``: pressing Enter in a number field only commits the value; it
    must not start a training run (nor show a "Press Enter to submit" hint over the value).
    """
    from fedcore.strategies import STRATEGIES

    names = list(STRATEGIES)
    kinds = ["logreg", "mlp", "cnn"] if is_image else ["logreg", "mlp"]
    state.keep_valid("w.sim.kind", kinds)
    state.keep_valid("w.sim.methods", names, multi=True)
    with st.form("simulate_form", enter_to_submit=False):
        st.markdown("**Model**")
        c1, c2 = st.columns(2)
        kind = c1.selectbox("Model", kinds, index=1, key="w.sim.kind",
                            help="Logistic regression, MLP, or a small CNN (images only).")
        hidden = c2.text_input("Hidden sizes", "64", key="w.sim.hidden",
                               help="Comma-separated widths of the hidden layers (MLP, CNN head).")
        st.markdown("**Federated training**")
        c1, c2, c3, c4 = st.columns(4)
        rounds = c1.number_input("Rounds", 1, 500, 10, key="w.sim.rounds")
        epochs = c2.number_input("Local epochs", 1, 50, 1, key="w.sim.epochs")
        lr = c3.number_input("Learning rate", 1e-5, 10.0, 0.05, format="%g", key="w.sim.lr")
        batch = c4.number_input("Batch size", 1, 4096, 32, key="w.sim.batch")
        c1, c2, c3, c4 = st.columns(4)
        optimizer = c1.selectbox("Optimizer", ["sgd", "adam"], key="w.sim.opt")
        mu = c2.number_input("FedProx mu", 0.0, 10.0, 0.0, format="%g", key="w.sim.mu",
                             help="Proximal term; 0 = plain local SGD (FedAvg).")
        frac = c3.slider("Fraction of clients per round", 0.05, 1.0, 1.0, 0.05, key="w.sim.frac")
        seed = c4.number_input("Model seed", 0, 2**31 - 1, 0, key="w.sim.seed")
        # Classification always trains on cross-entropy (auto): no loss choice to offer.
        loss, delta = loss_widgets("w.sim") if task == "regression" else ("auto", 1.0)
        st.markdown("**Methods**")
        methods = st.multiselect("Methods to run", names,
                                 default=[m for m in DEFAULT_METHODS if m in names],
                                 key="w.sim.methods",
                                 format_func=lambda m: f"{m} — {STRATEGIES[m].paper or 'baseline'}")
        oracle = False
        if n_true_groups:
            oracle = st.checkbox(
                f"Use the known number of groups (K = {n_true_groups}) for k-based methods",
                value=False, key="w.sim.oracle_k",
                help="An ORACLE choice: real clients do not know it. Runs made with it are "
                     "marked 'oracle K' in every table, legend and export.")
        st.caption("Method parameters (used only when the method is selected above; hover "
                   "the question-mark icon next to a parameter for what it does):")
        params = {}
        for m in names:
            schema = STRATEGIES[m].param_schema
            if schema:
                with st.expander(f"{m} parameters"):
                    params[m] = _param_grid(_fit_schema(schema, n_clients), f"w.sim.p.{m}")
        if not st.form_submit_button("Run", type="primary", icon=":material/play_arrow:"):
            return None
    if not methods:
        st.warning("Choose at least one method.")
        return None
    chosen = {m: dict(params.get(m, {})) for m in methods}
    oracle_methods = set()
    if oracle and n_true_groups:
        for m, p in chosen.items():
            for name in K_PARAMS:
                if name in p:
                    p[name] = int(n_true_groups)
                    oracle_methods.add(m)
    problem = validate_methods(chosen)
    if problem:
        st.error(f"Nothing was started — {problem}", icon=":material/error:")
        return None
    try:
        spec = ModelSpec(kind=kind, hidden=parse_ints(hidden, "hidden sizes") if kind != "logreg"
                         else ())
        config = SimulationConfig(rounds=int(rounds), seed=int(seed), fraction_fit=float(frac),
                                  model=spec, fit=FitConfig(local_epochs=int(epochs),
                                                            batch_size=int(batch), lr=float(lr),
                                                            optimizer=optimizer,
                                                            prox_mu=float(mu), loss=loss,
                                                            huber_delta=float(delta)))
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "Invalid settings")
        return None
    return config, chosen, oracle_methods


def validate_methods(methods: dict[str, dict]) -> str | None:
    """The first invalid method parameter as one sentence, or None when all are valid.

    Builds every strategy with its parameters (checked against its ``Param`` schema, see
    :func:`fedcore.params.validate`) before anything trains, so a bad value fails here, not
    after other methods have run.
    """
    from fedcore.strategies import STRATEGIES

    for method, params in methods.items():
        try:
            STRATEGIES[method](**params)
        except Exception as exc:  # noqa: BLE001 - any construction error is a bad setting
            text = error_text(exc)
            return text if method in text else f"{method}: {text}"
    return None


def _param_grid(schema: dict, prefix: str, per_row: int = 3) -> dict:
    """Schema widgets laid out ``per_row`` to a row (a long single column hides the Run
    button under the fold)."""
    _follow_defaults(schema, prefix)
    values, items = {}, list(schema.items())
    for start in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, (name, spec) in zip(cols, items[start:start + per_row]):
            values.update(schema_widgets({name: spec}, prefix, container=col))
    return values


def _follow_defaults(schema: dict, prefix: str) -> None:
    """Let untouched parameters follow their data-dependent default.

    Widget values are remembered across pages; a value still equal to the default it was
    drawn with (e.g. 2 clusters, from a 4-client dataset) is one the user never set, so it
    takes the new default when the data changes. Values the user edited are kept.
    """
    seen = st.session_state.setdefault("fl.sim_param_defaults", {})
    for name, spec in schema.items():
        key, default = f"{prefix}.{name}", spec.default
        if key in seen and key in st.session_state and st.session_state[key] == seen[key] \
                and default != seen[key]:
            st.session_state[key] = default
        seen[key] = default


def _fit_schema(schema: dict, n_clients: int) -> dict:
    """Clip cluster counts to the clients, so defaults are always valid and useful.

    A default number of clusters must leave clusters to share: with 4 clients a default
    of 4 would give every client its own model (local training in disguise), so it
    is capped at half the clients.
    """
    out = dict(schema)
    for name, spec in schema.items():
        if name in ("n_clusters", "max_clusters") and spec.kind == "int":
            top = min(int(spec.max if spec.max is not None else n_clients), max(n_clients, 1))
            default = int(spec.default)
            if default > 0:
                default = min(default, max(2, n_clients // 2))
            out[name] = spec.with_(max=top, default=max(min(default, top), int(spec.min or 0)))
    return out


def run_methods(dataset, config: SimulationConfig, methods: dict[str, dict],
                oracle: set | frozenset = frozenset()) -> list[str]:
    """Run each method with a live progress bar; a failure keeps the other results.

    Every finished run is stored under its run id and saved to the runs folder at once
    (:func:`fedcore.ui.persist.autosave`); while the methods run, the browser asks before
    the tab is closed or reloaded (:func:`leave_guard`).

    Returns
    -------
    list of str
        The run ids that finished.
    """
    from fedcore.simulation import run_simulation
    from fedcore.strategies import STRATEGIES

    from .persist import autosave

    guard = leave_guard()
    engine = _engine(dataset, config)
    done = []
    try:
        for method, params in methods.items():
            callback = method_progress(method)
            try:
                strategy = STRATEGIES[method](**params)
                kwargs = {"engine": engine} if engine is not None else {}
                result = run_simulation(dataset, strategy, config, progress=callback, **kwargs)
            except Exception as exc:  # noqa: BLE001 - one failed method must not lose the others
                callback.bar.empty()
                state.run_errors()[method] = error_text(exc)
                continue
            if not result.dataset_fingerprint:
                result.dataset_fingerprint = state.fingerprint()
            key = state.store_result(result, oracle=method in oracle)
            saved = autosave(key, result)
            callback.bar.progress(1.0, text=f"{method}: done in {result.wall_seconds:.1f} s · "
                                            + score_text(result)
                                            + (" · saved" if saved else ""))
            done.append(key)
    finally:
        guard.empty()
    return done


#: While a run is in progress: ask before the tab is closed/reloaded, and before a sidebar
#: link interrupts it. The handlers check that the guard element is still on the page, so
#: they fall silent once it is removed (run finished, page changed).
_GUARD_HTML = """<div id="fedlens-run-guard" style="display:none"></div><script>
(function () {
  const active = () => !!document.getElementById('fedlens-run-guard');
  if (window.__fedlensGuard) return;
  window.__fedlensGuard = true;
  window.addEventListener('beforeunload', function (e) {
    if (active()) { e.preventDefault(); e.returnValue = ''; }
  });
  document.addEventListener('click', function (e) {
    const link = e.target.closest && e.target.closest('[data-testid="stSidebarNav"] a');
    if (link && active() && !window.confirm(
        'A simulation is running. Leave this page and stop it?')) {
      e.preventDefault(); e.stopPropagation();
    }
  }, true);
})();
</script>"""


def leave_guard():
    """A placeholder holding the leave-page guard; ``.empty()`` it when the run ends."""
    slot = st.empty()
    slot.html(_GUARD_HTML, unsafe_allow_javascript=True)
    return slot


def error_text(exc: BaseException) -> str:
    """A FedLensError's own message; the exception type first for anything unexpected."""
    from fedcore.errors import FedLensError
    return str(exc) if isinstance(exc, FedLensError) else f"{type(exc).__name__}: {exc}"


def _engine(dataset, config: SimulationConfig):
    """One engine for all methods of a submit (same data and model: compile once)."""
    try:
        from fedcore.engine import VectorisedEngine
        return VectorisedEngine(dataset, config.model, seed=config.seed)
    except Exception:  # noqa: BLE001 - each run_simulation then builds (and reports) its own
        return None


def n_true_groups(dataset) -> int | None:
    """Number of known true groups of ``dataset`` (None when unknown or a single group)."""
    groups = getattr(dataset, "true_groups", None)
    if groups is None:
        return None
    k = len(set(np.asarray(groups).tolist()))
    return k if k >= 2 else None
