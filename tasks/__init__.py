"""Prefect tasks: thin wrappers, one core call each (installed as imbench.tasks)."""
