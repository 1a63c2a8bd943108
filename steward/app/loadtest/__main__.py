"""``python -m steward.app.loadtest RUN_ID``: run one queued load test, then exit.

Locust is imported before anything else so its gevent patching happens
before any socket or thread exists in this process.
"""

from __future__ import annotations

import sys

from steward.app.loadtest import runner  # first: Locust patches the interpreter on import
from steward.core.errors import StewardError
from steward.core.steward import Steward


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m steward.app.loadtest RUN_ID", file=sys.stderr)  # noqa: T201
        return 2
    steward = Steward.open()
    try:
        run = runner.run(steward, int(argv[0]))
    except StewardError as problem:
        print(f"error: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        steward.close()
    print(f"load test #{run.id} {run.status.value}: {run.detail}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
