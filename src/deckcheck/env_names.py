"""The environment variables deckcheck reads or sets, each named once.

Imported inside the kernel too, so it imports nothing.
"""

CACHE = "DECKCHECK_CACHE"  # where the result cache and the data cache live (default: PROJECT/.cache)
MATRIX = "DECKCHECK_MATRIX"  # where `deckcheck matrix` keeps its environments (default: CACHE/matrix)
INSTALLER = "DECKCHECK_INSTALLER"  # "pip" or "uv": what makes them (default: uv when installed)
NETWORK = "DECKCHECK_NETWORK"  # "0" or "1": whether requires=["network"] blocks run
FORK = "DECKCHECK_FORK"  # "0" turns the fork server off
MEMORY_LIMIT = "DECKCHECK_MEMORY_LIMIT"  # bytes per kernel
MEMORY_SHARED = "DECKCHECK_MEMORY_SHARED"  # bytes a forked kernel inherits from the fork server
OUTPUT_LIMIT = "DECKCHECK_OUTPUT_LIMIT"  # characters of printed output kept per block
CRASH_LOG = "DECKCHECK_CRASH_LOG"  # where faulthandler writes and cell files are listed
ASSERT_VALUES = "DECKCHECK_ASSERT_VALUES"  # "0": a failed assert says only what Python says
STANDINS = "DECKCHECK_STANDINS"  # JSON: {absolute path: stand-in name}
THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")  # thread pools, set per kernel
