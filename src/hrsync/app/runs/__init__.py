"""Connection runs: read, plan, gate, apply and record; the stored plan as a diff."""
