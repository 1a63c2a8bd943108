"""What every service needs, built once per process and injected."""

from __future__ import annotations

from dataclasses import dataclass

from core.adapters.artifacts import ArtifactStore
from core.adapters.db.engine import Engines
from core.adapters.notifiers import Notifier
from core.clock import Clock
from core.config import Settings
from core.domain.passwords import ScryptParams


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
