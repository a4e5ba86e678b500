"""A faithful local Microsoft Graph: the Entra token endpoint and users (with managers, delta
and `$batch`) over one in-memory tenant, with fault injection.

    sim = GraphSimulator(App("contoso.onmicrosoft.com", "client-id", "secret"))
    sim.start()   # sim.login_url (token at /{tenant}/oauth2/v2.0/token), sim.graph_url (/v1.0)
    ...
    sim.stop()

What the simulator serves is in docs/connectors/microsoft365.md.
"""

from hrsync.simulators.graph.control import Faults
from hrsync.simulators.graph.entra import App
from hrsync.simulators.graph.server import GraphSimulator

__all__ = ["App", "Faults", "GraphSimulator"]
