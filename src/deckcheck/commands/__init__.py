"""Commands: what a user runs (the `deckcheck` CLI, serve, matrix, init, the pytest plugin, the
pre-commit hook, the workflow lint). The top of the pipeline: may import every other package.
"""

__all__ = ["cli", "data", "init", "matrix", "pre_commit", "pytest_plugin", "serve", "workflow_lint"]
