"""A faithful local AFAS Profit REST API: GetConnectors, metainfo, the AfasToken, faults.

    sim = AfasSimulator(generate_dataset(count=1000, seed=7), Token("my-token"))
    sim.start()   # sim.url -> http://127.0.0.1:<port>/ProfitRestServices
    ...
    sim.stop()

What it serves, and what of it is inferred, is in docs/connectors/afas.md.
"""

from hrsync.simulators.afas.control import Faults
from hrsync.simulators.afas.generate import generate_dataset
from hrsync.simulators.afas.server import AfasSimulator, Token, afas_authorization
from hrsync.simulators.afas.store import (
    EMPLOYMENTS,
    MODIFIED,
    ORGANIZATIONAL_UNITS,
    USERS,
    DatasetError,
    load_dataset,
)

__all__ = [
    "EMPLOYMENTS",
    "MODIFIED",
    "ORGANIZATIONAL_UNITS",
    "USERS",
    "AfasSimulator",
    "DatasetError",
    "Faults",
    "Token",
    "afas_authorization",
    "generate_dataset",
    "load_dataset",
]
