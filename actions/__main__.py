"""``python -m actions``: the action server (``actions/server.py``).

A package's ``__main__`` on purpose: Sanic starts its processes with multiprocessing's spawn,
which re-imports a ``-m`` main module in every child unless it is a package's ``__main__``.
"""

import sys

from actions.server import main

if __name__ == "__main__":
    sys.exit(main())
