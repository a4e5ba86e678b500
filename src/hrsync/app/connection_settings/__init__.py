"""A connection's settings: the configuration steps, policies, rules and groups, validated."""
