"""A faithful local Oneflow (research §2): the `/v1` API, signed webhooks with Oneflow's retry
schedule, contract PDFs, and `/_sim` endpoints to sign, decline and expire contracts.

What it serves, and what of it is inferred, is in docs/connectors/oneflow.md.
"""

from hrsync.simulators.oneflow.catalog import FLEX_DATA_FIELDS, TemplateOptions
from hrsync.simulators.oneflow.server import OneflowSimulator
from hrsync.simulators.oneflow.webhooks import RETRY_SCHEDULE, signature

__all__ = ["FLEX_DATA_FIELDS", "RETRY_SCHEDULE", "OneflowSimulator", "TemplateOptions", "signature"]
