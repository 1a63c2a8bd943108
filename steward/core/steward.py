"""``Steward``: the engine's front door.

Every shell (Streamlit pages, CLI, worker, scoring service) builds one of
these from settings and calls its services; nothing outside ``core`` touches
the database directly. Clock and notifier are injected so tests are
deterministic.

Every service (and SQLAlchemy itself) is imported when first used, not when
this module is: ``steward --help`` and ``steward drift`` never open a
database, and a process that serves pages pays for each service once.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from steward.core.domain.accounts import Actor
from steward.core.errors import ConfigurationError

if TYPE_CHECKING:
    from steward.core.adapters.artifacts import ArtifactStore
    from steward.core.adapters.db.engine import Engines
    from steward.core.adapters.notifiers import Notifier
    from steward.core.clock import Clock
    from steward.core.config import Settings
    from steward.core.services.alert_rules import AlertRuleService
    from steward.core.services.alerts import AlertService
    from steward.core.services.api_keys import ApiKeyService
    from steward.core.services.audit import AuditService
    from steward.core.services.auth import AuthService
    from steward.core.services.catalog import DatasetService
    from steward.core.services.deployments import DeploymentService
    from steward.core.services.environments import EnvironmentService
    from steward.core.services.head_to_head import HeadToHeadService
    from steward.core.services.heartbeats import HeartbeatService
    from steward.core.services.incident_view import IncidentView
    from steward.core.services.infrastructure import InfrastructureService
    from steward.core.services.jobs import JobService
    from steward.core.services.leases import LeaseService
    from steward.core.services.loadtest import LoadTestService
    from steward.core.services.monitoring import MonitoringService
    from steward.core.services.notifications import NotificationService
    from steward.core.services.overview import OverviewService
    from steward.core.services.predictions import PredictionLog
    from steward.core.services.promotions import PromotionService
    from steward.core.services.registry import PipelineService
    from steward.core.services.retrain_policies import RetrainPolicyService
    from steward.core.services.rollups import RollupService
    from steward.core.services.rule_sets import RuleSetService
    from steward.core.services.service_health import ServiceHealthService
    from steward.core.services.signals import SignalService
    from steward.core.services.sla import SlaService
    from steward.core.services.sla_evaluation import SlaEvaluation
    from steward.core.services.sso import GroupMappingService
    from steward.core.services.timeline import TimelineService
    from steward.core.services.users import UserService


class Steward:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        engines: Engines | None = None,
        artifact_store: ArtifactStore | None = None,
    ) -> None:
        # Imported here, not at the top: building a Steward needs SQLAlchemy and the settings, but a
        # process that only names the class (``steward --help``, a page's type hints) must not pay for them.
        from steward.core.adapters.artifacts import LocalArtifactStore
        from steward.core.adapters.db.engine import create_engines
        from steward.core.adapters.notifiers import EventLogNotifier
        from steward.core.clock import SystemClock
        from steward.core.config import ensure_writable_dir, load_settings
        from steward.core.services.context import ServiceContext

        self.settings = settings or load_settings()
        if self.settings.is_sqlite and not self.settings.database_url:
            ensure_writable_dir(self.settings.data_dir, "data folder")
        self.engines = engines or create_engines(self.settings.resolved_database_url)
        self.ctx = ServiceContext(
            settings=self.settings,
            engines=self.engines,
            clock=clock or SystemClock(),
            notifier=notifier or EventLogNotifier(),
            artifacts=artifact_store or LocalArtifactStore(self.settings.resolved_artifact_root),
        )

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs: object) -> Steward:
        """Build and prove the database is reachable and migrated; one clear error otherwise."""
        from steward.core.adapters.db.engine import check_connection

        steward = cls(settings, **kwargs)  # type: ignore[arg-type]
        check_connection(steward.engines)
        return steward

    # ---- services ----------------------------------------------------------
    @cached_property
    def users(self) -> UserService:
        from steward.core.services.users import UserService

        return UserService(self.ctx)

    @cached_property
    def auth(self) -> AuthService:
        from steward.core.services.auth import AuthService

        return AuthService(self.ctx)

    @cached_property
    def audit(self) -> AuditService:
        from steward.core.services.audit import AuditService

        return AuditService(self.ctx)

    @cached_property
    def environments(self) -> EnvironmentService:
        from steward.core.services.environments import EnvironmentService

        return EnvironmentService(self.ctx)

    @cached_property
    def group_mappings(self) -> GroupMappingService:
        from steward.core.services.sso import GroupMappingService

        return GroupMappingService(self.ctx)

    @cached_property
    def datasets(self) -> DatasetService:
        from steward.core.services.catalog import DatasetService

        return DatasetService(self.ctx)

    @cached_property
    def pipelines(self) -> PipelineService:
        from steward.core.services.registry import PipelineService

        return PipelineService(self.ctx)

    @cached_property
    def jobs(self) -> JobService:
        from steward.core.services.jobs import JobService

        return JobService(self.ctx)

    @cached_property
    def monitoring(self) -> MonitoringService:
        from steward.core.services.monitoring import MonitoringService

        return MonitoringService(self.ctx)

    @cached_property
    def predictions(self) -> PredictionLog:
        """What each deployment answered: the log drift and performance windows are cut from."""
        from steward.core.services.predictions import PredictionLog

        return PredictionLog(self.ctx)

    @cached_property
    def signals(self) -> SignalService:
        from steward.core.services.signals import SignalService

        return SignalService(self.ctx)

    @cached_property
    def alerts(self) -> AlertService:
        """Alerts opened by audit events; operators acknowledge and resolve them."""
        from steward.core.services.alerts import AlertService

        return AlertService(self.ctx)

    @cached_property
    def alert_rules(self) -> AlertRuleService:
        """Each kind of alert's severity, condition and runbook; operators and admins edit them."""
        from steward.core.services.alert_rules import AlertRuleService

        return AlertRuleService(self.ctx)

    @cached_property
    def notifications(self) -> NotificationService:
        """Channels admins configure; the worker delivers the outbox (``deliver_due``)."""
        from steward.core.services.notifications import NotificationService

        return NotificationService(self.ctx)

    @cached_property
    def timeline(self) -> TimelineService:
        """Deployments, approvals, alerts, runs, fail-overs and swaps in one chronological read."""
        from steward.core.services.timeline import TimelineService

        return TimelineService(self.ctx)

    @cached_property
    def incidents(self) -> IncidentView:
        """An incident's drill-down in one read: evidence links, the ledger just before, runbook, actions."""
        from steward.core.services.incident_view import IncidentView

        return IncidentView(self.ctx)

    @cached_property
    def overview(self) -> OverviewService:
        from steward.core.services.overview import OverviewService

        return OverviewService(self.ctx)

    @cached_property
    def infrastructure(self) -> InfrastructureService:
        """Probes, compute, the scheduler, every process: ``status()`` answers the infrastructure light."""
        from steward.core.services.infrastructure import InfrastructureService

        return InfrastructureService(self.ctx)

    @cached_property
    def heartbeats(self) -> HeartbeatService:
        """``beat(kind, name, details)`` from any process; ``HeartbeatThread`` beats on its own."""
        from steward.core.services.heartbeats import HeartbeatService

        return HeartbeatService(self.ctx)

    @cached_property
    def leases(self) -> LeaseService:
        """The worker leader's lease (one leader, fencing tokens)."""
        from steward.core.services.leases import LeaseService

        return LeaseService(self.ctx)

    @cached_property
    def promotions(self) -> PromotionService:
        """Promotion requests, sign-off policies, approvals, execution, release certificates."""
        from steward.core.services.promotions import PromotionService

        return PromotionService(self.ctx)

    @cached_property
    def deployments(self) -> DeploymentService:
        """What serves where, the ledger, rollbacks and fail-overs."""
        from steward.core.services.deployments import DeploymentService

        return DeploymentService(self.ctx)

    @cached_property
    def sla(self) -> SlaService:
        """The service-level targets of each deployment."""
        from steward.core.services.sla import SlaService

        return SlaService(self.ctx)

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Keys for the scoring service, scoped to environments (admins; the secret is shown once)."""
        from steward.core.services.api_keys import ApiKeyService

        return ApiKeyService(self.ctx)

    @cached_property
    def rule_sets(self) -> RuleSetService:
        """Fallback rule sets per deployment: versioned, armed, failed over to and back (audited)."""
        from steward.core.services.rule_sets import RuleSetService

        return RuleSetService(self.ctx)

    @cached_property
    def head_to_head(self) -> HeadToHeadService:
        from steward.core.services.head_to_head import HeadToHeadService

        return HeadToHeadService(self.ctx)

    @cached_property
    def retrain_policies(self) -> RetrainPolicyService:
        """When a pipeline retrains itself; the worker's ``retrain.policies`` job runs them."""
        from steward.core.services.retrain_policies import RetrainPolicyService

        return RetrainPolicyService(self.ctx)

    @cached_property
    def rollups(self) -> RollupService:
        """The prediction log summed per minute and hour (kept current by the worker's ``rollups.run``)."""
        from steward.core.services.rollups import RollupService

        return RollupService(self.ctx)

    @cached_property
    def sla_evaluation(self) -> SlaEvaluation:
        """Each deployment's SLA judged from the rollups; breaches and recoveries audited and alerted."""
        from steward.core.services.sla_evaluation import SlaEvaluation

        return SlaEvaluation(self.ctx)

    @cached_property
    def service_health(self) -> ServiceHealthService:
        """The Service health page in one read."""
        from steward.core.services.service_health import ServiceHealthService

        return ServiceHealthService(self.ctx)

    @cached_property
    def loadtests(self) -> LoadTestService:
        """Load tests of the scoring service, and their measurements (read by the load-test gate)."""
        from steward.core.services.loadtest import LoadTestService

        return LoadTestService(self.ctx)

    # ---- lifecycle ---------------------------------------------------------
    def upgrade_database(self) -> None:
        """Apply migrations, then make sure the defaults every install needs exist (audited)."""
        from steward.core.adapters.db import migrate  # Alembic is slow to import; only this path needs it
        from steward.core.adapters.db.engine import check_connection

        check_connection(self.engines)
        migrate.upgrade(self.engines)
        self.bootstrap()

    def bootstrap(self) -> None:
        actor = Actor.system_actor("bootstrap")
        self.environments.ensure_defaults(actor)
        self.promotions.ensure_default_policies(actor)

    def require_current_schema(self) -> None:
        from steward.core.adapters.db import migrate

        if not migrate.is_up_to_date(self.engines):
            raise ConfigurationError("the database schema is not up to date; run `steward db upgrade`")

    def close(self) -> None:
        self.engines.dispose()
