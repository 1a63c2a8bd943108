"""What every service needs, built once per process and injected."""

from __future__ import annotations

from dataclasses import dataclass

from steward.core.adapters.artifacts import ArtifactStore
from steward.core.adapters.db.engine import Engines
from steward.core.adapters.notifiers import Notifier
from steward.core.clock import Clock
from steward.core.config import Settings
from steward.core.domain.passwords import ScryptParams


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    engines: Engines
    clock: Clock
    notifier: Notifier
    artifacts: ArtifactStore

    @property
    def scrypt(self) -> ScryptParams:
        return ScryptParams(n=self.settings.scrypt_n)
