"""Access control for serving FedLens beyond one's own machine.

On the loopback address (the default, ``.streamlit/config.toml``) nobody else can reach the
dashboard and no token is asked. On any other address the dashboard refuses to show
anything unless an access token is configured -- the environment variable ``FEDLENS_TOKEN``
or ``fedlens_token`` in ``.streamlit/secrets.toml`` -- and then asks every new browser
session for it before showing a page. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

import streamlit as st

TOKEN_ENV = "FEDLENS_TOKEN"
TOKEN_SECRET = "fedlens_token"
_OK_KEY = "fl.access_granted"


def is_loopback(address: str | None) -> bool:
    """Whether serving on ``address`` is reachable from this machine only.

    An empty address means "every interface" to Streamlit, so it is not loopback.
    """
    if not address:
        return False
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public interface


def serving_address() -> str | None:
    return st.get_option("server.address")


def expected_token() -> str | None:
    """The configured token: ``$FEDLENS_TOKEN`` first, then Streamlit secrets."""
    token = os.environ.get(TOKEN_ENV)
    if token:
        return token
    try:
        return str(st.secrets[TOKEN_SECRET]) or None
    except Exception:  # noqa: BLE001 - no secrets file or no such key
        return None


def require_access() -> None:
    """Stop the script unless this session may see the dashboard (see module docstring)."""
    address = serving_address()
    if is_loopback(address) or st.session_state.get(_OK_KEY):
        return
    token = expected_token()
    if not token:
        st.error(f"FedLens is served on '{address or 'all interfaces'}' without an access "
                 f"token. Set the environment variable {TOKEN_ENV} (or `{TOKEN_SECRET}` in "
                 ".streamlit/secrets.toml) and restart, or serve on 127.0.0.1.")
        st.stop()
    st.title("FedLens")
    entered = st.text_input("Access token", type="password", key="fl.access_token")
    if entered and hmac.compare_digest(entered.encode(), token.encode()):
        st.session_state[_OK_KEY] = True
        st.session_state.pop("fl.access_token", None)
        st.rerun()
    if entered:
        st.error("Wrong access token.")
    st.stop()
