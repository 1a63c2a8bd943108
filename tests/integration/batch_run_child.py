"""A real process that runs one monitor, for tests that kill it mid-run (SIGKILL).

Settings come from ``STEWARD_*`` variables like any Steward process; the
monitor's id is the first argument.
"""

from __future__ import annotations

import sys

from steward.core.domain.accounts import Actor
from steward.core.steward import Steward

if __name__ == "__main__":
    steward = Steward.open()
    run = steward.monitoring.run(Actor.system_actor("child"), int(sys.argv[1]))
    print(run.status, run.detail)
