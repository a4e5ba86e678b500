"""Scheduling and task-queue glue (issue 5)."""
