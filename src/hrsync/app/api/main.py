"""The API object; routers for each resource are added in their own modules."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="hrsync",
    version="1",
    description="HR-driven provisioning: sources, connections, runs, tickets, people, audit.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
