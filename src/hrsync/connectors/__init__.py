"""One package per external system, each with the same files: config, client, errors."""
