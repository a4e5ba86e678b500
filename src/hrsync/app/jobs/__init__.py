"""Execution: schedules, the job queue, leases, the scheduler tick and sweep, and the workers."""
