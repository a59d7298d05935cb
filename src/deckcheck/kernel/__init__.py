"""Kernels: starting, forking, connecting to and stopping a deck's kernel process.

A kernel is launched one of three ways (deckcheck.kernel.launch): a fresh interpreter, a fork
of the fork server, or a resumed checkpoint. Runs in the checker (the fork server's own
process is deckcheck.kernel.fork_server run as a program). May import: the vocabulary and
deckcheck.in_kernel (the functions it calls there), jupyter_client, nbclient, psutil.
"""

__all__ = [
    "calls", "client", "data_cache", "data_sets", "env", "fork_server", "launch", "process", "scratch",
    "standin_data",
]  # fmt: skip
