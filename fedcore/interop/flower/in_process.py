"""Flower's own server loop over in-process clients (no Ray)."""

from __future__ import annotations

from collections.abc import Mapping

from flwr.common import (
    DisconnectRes,
)
from flwr.server import Server
from flwr.server.client_manager import SimpleClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import Strategy as FlowerStrategy


class InProcessClientProxy(ClientProxy):
    """A ``ClientProxy`` calling a Flower ``Client`` in this process."""

    def __init__(self, cid: str, client):
        super().__init__(cid)
        self.client = client.to_client() if hasattr(client, "to_client") else client

    def get_properties(self, ins, timeout, group_id):
        return self.client.get_properties(ins)

    def get_parameters(self, ins, timeout, group_id):
        return self.client.get_parameters(ins)

    def fit(self, ins, timeout, group_id):
        return self.client.fit(ins)

    def evaluate(self, ins, timeout, group_id):
        return self.client.evaluate(ins)

    def reconnect(self, ins, timeout, group_id):
        return DisconnectRes(reason="")


def run_in_process(clients: Mapping[str, object], strategy: FlowerStrategy, num_rounds: int):
    """Run Flower's server loop over in-process clients (``cid -> NumPyClient/Client``).

    Returns Flower's ``History``. Clients are registered in the mapping's order.
    """
    manager = SimpleClientManager()
    for cid, client in clients.items():
        manager.register(InProcessClientProxy(str(cid), client))
    server = Server(client_manager=manager, strategy=strategy)
    history, _elapsed = server.fit(num_rounds=num_rounds, timeout=None)
    return history
