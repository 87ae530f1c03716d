"""Prefect flows: entry points of the CLI and deployments (installed as imbench.flows)."""
