"""The web console: server-rendered pages with htmx, one module per area."""
