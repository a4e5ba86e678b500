"""SCIM 2.0 targets: the protocol layer (config, discovery, client, PATCH builder, compliance)."""
