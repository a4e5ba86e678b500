"""The Django shell: settings, the stores (models), and the services the CLI and console call."""
