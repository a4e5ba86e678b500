"""The stores, one module per concept; Django finds them all through this package."""

from hrsync.app.models.access import ApiToken, AuditEvent
from hrsync.app.models.contracts import Contract, ContractDelivery, ContractStep, Integration
from hrsync.app.models.jobs import JobRun, Lease
from hrsync.app.models.notify import Channel, Delivery
from hrsync.app.models.rules import Trigger, TriggerFiring
from hrsync.app.models.stores import (
    Connection,
    Import,
    InvalidRecord,
    Link,
    Person,
    PersonnelChange,
    Run,
    RunChange,
    Source,
)
from hrsync.app.models.tickets import Ticket, TicketConnectionState, TicketEntry
from hrsync.app.models.uploads import SourceUpload

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Channel",
    "Connection",
    "Contract",
    "ContractDelivery",
    "ContractStep",
    "Delivery",
    "Import",
    "Integration",
    "InvalidRecord",
    "JobRun",
    "Lease",
    "Link",
    "Person",
    "PersonnelChange",
    "Run",
    "RunChange",
    "Source",
    "SourceUpload",
    "Ticket",
    "TicketConnectionState",
    "TicketEntry",
    "Trigger",
    "TriggerFiring",
]
