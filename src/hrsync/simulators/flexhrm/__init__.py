"""A faithful local Flex HRM: both API dialects over one in-memory dataset, with fault injection.

    sim = FlexSimulator(generate_dataset(count=1000, seed=7))
    sim.start()   # sim.url -> http://127.0.0.1:<port>/api/, sim.legacy_url -> .../webapi/api/
    ...
    sim.stop()

What the simulator serves, and what of it is inferred, is in docs/connectors/flexhrm-simulator.md.
"""

from hrsync.simulators.flexhrm.control import Faults
from hrsync.simulators.flexhrm.generate import generate_dataset
from hrsync.simulators.flexhrm.server import Credentials, FlexSimulator
from hrsync.simulators.flexhrm.store import DatasetError, UnknownEmployeeError, load_dataset

__all__ = [
    "Credentials",
    "DatasetError",
    "Faults",
    "FlexSimulator",
    "UnknownEmployeeError",
    "generate_dataset",
    "load_dataset",
]
