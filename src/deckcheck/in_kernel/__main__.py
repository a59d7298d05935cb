"""`python -m deckcheck.in_kernel -f CONNECTION_FILE`: become a deck's kernel.

The kernel's state lives in the modules that blocks and the checker's calls import
(deckcheck.in_kernel.*), never in this __main__ module.
"""

from deckcheck.in_kernel.boot import main

main()
