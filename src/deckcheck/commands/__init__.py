"""Commands: what a user runs (the `deckcheck` CLI, serve, present, matrix, init, the pytest plugin, the
pre-commit hook, the workflow lint). The top of the pipeline: may import every other package.
"""

__all__ = [
    "check_service",
    "cli",
    "data",
    "init",
    "matrix",
    "pre_commit",
    "present",
    "pytest_plugin",
    "serve",
    "workflow_lint",
]
