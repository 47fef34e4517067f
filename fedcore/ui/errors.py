"""Show errors as banners: a FedLensError is the user's to fix, anything else is ours."""

from __future__ import annotations

import contextlib
import traceback

import streamlit as st

from fedcore.errors import FedLensError


def show_error(exc: BaseException, what: str = "") -> None:
    """Render ``exc`` as ``st.error``; unexpected errors get a details expander.

    Parameters
    ----------
    exc : BaseException
    what : str
        What was being done ("loading the upload", "running ifca"), used as a prefix.
    """
    prefix = f"{what}: " if what else ""
    if isinstance(exc, FedLensError):
        st.error(f"{prefix}{exc}", icon=":material/error:")
        return
    st.error(f"{prefix}unexpected {type(exc).__name__}: {str(exc)[:300]}",
             icon=":material/bug_report:")
    with st.expander("Details (for a bug report)"):
        st.code("".join(traceback.format_exception(exc)), language="text")


@contextlib.contextmanager
def guard(what: str = ""):
    """Context manager: any exception inside becomes a banner instead of a traceback.

    Streamlit's own control-flow exceptions (rerun, stop, page switch) pass through.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the point is to catch everything
        if _is_streamlit_control_flow(exc):
            raise
        show_error(exc, what)


def _is_streamlit_control_flow(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in {"RerunException", "StopException"} or type(exc).__module__.startswith(
        "streamlit.runtime.scriptrunner")
