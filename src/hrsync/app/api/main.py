"""The API object: authentication per operation, one error shape, the docs page, every router."""

from ninja import NinjaAPI

from hrsync.app.api import (
    audit_log,
    channels,
    connection_actions,
    connections,
    integrations,
    people,
    runs,
    source_uploads,
    sources,
    tickets,
    tokens,
    triggers,
)
from hrsync.app.api.docs_page import OperationsPage
from hrsync.app.api.errors import install_handlers

api = NinjaAPI(
    title="hrsync",
    version="1",
    description="HR-driven provisioning: sources, connections, runs, tickets, people, audit.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=OperationsPage(),
)
install_handlers(api)
ROUTERS = (
    tokens,
    sources,
    source_uploads,
    connections,
    connection_actions,
    runs,
    tickets,
    people,
    triggers,
    channels,
    integrations,
    audit_log,
)
for module in ROUTERS:
    api.add_router("", module.router)
