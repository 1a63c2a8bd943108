"""The ``steward`` command: one module per command group, errors handled in ``steward.app.errors``.

``main`` is the root group (``steward.app.cli.root``); each group's module is
imported only when that group runs.
"""

from steward.app.cli.root import main

__all__ = ["main"]
