"""Every ORM table, imported here so ``Base.metadata`` is complete for Alembic and tests.

Rows never leave the service layer: services turn them into entities.
"""

from steward.core.adapters.db.models.accounts import (
    GroupRoleMappingRow,
    LoginThrottleRow,
    SessionRow,
    UserRoleRow,
    UserRow,
)
from steward.core.adapters.db.models.alerts import AlertOccurrenceRow, AlertRow, AlertRuleRow
from steward.core.adapters.db.models.audit import AuditEventRow, AuditHeadRow
from steward.core.adapters.db.models.base import Base, UTCDateTime
from steward.core.adapters.db.models.catalog import DatasetRow
from steward.core.adapters.db.models.comparisons import VersionComparisonRow
from steward.core.adapters.db.models.environments import EnvironmentRow
from steward.core.adapters.db.models.infrastructure import (
    HeartbeatRow,
    HeartbeatSampleRow,
    LeaseRow,
    ProbeSampleRow,
)
from steward.core.adapters.db.models.monitoring import BatchRunRow, DriftWindowRow, JobRunRow, MonitorRow
from steward.core.adapters.db.models.notifications import (
    NotificationChannelRow,
    NotificationDeliveryRow,
    NotificationOutboxRow,
)
from steward.core.adapters.db.models.predictions import PredictionRow
from steward.core.adapters.db.models.promotions import (
    DeploymentRow,
    LedgerEntryRow,
    PolicyChangeRow,
    PromotionApprovalRow,
    PromotionRequestRow,
    SignoffPolicyRow,
)
from steward.core.adapters.db.models.registry import PipelineRow, PipelineVersionRow, ReferenceProfileRow
from steward.core.adapters.db.models.retraining import RetrainPolicyRow, RetrainRunRow
from steward.core.adapters.db.models.rollouts import RolloutRow, ShadowPredictionRow
from steward.core.adapters.db.models.rollups import RequestRollupRow, RollupMarkRow, SlaStateRow
from steward.core.adapters.db.models.service_levels import LoadTestRow, SlaTargetRow
from steward.core.adapters.db.models.serving import ApiKeyRow, RuleSetArmRow, RuleSetRow

__all__ = [
    "AlertOccurrenceRow",
    "AlertRow",
    "AlertRuleRow",
    "ApiKeyRow",
    "AuditEventRow",
    "AuditHeadRow",
    "Base",
    "BatchRunRow",
    "DatasetRow",
    "DeploymentRow",
    "DriftWindowRow",
    "EnvironmentRow",
    "GroupRoleMappingRow",
    "HeartbeatRow",
    "HeartbeatSampleRow",
    "JobRunRow",
    "LeaseRow",
    "LedgerEntryRow",
    "LoadTestRow",
    "LoginThrottleRow",
    "MonitorRow",
    "NotificationChannelRow",
    "NotificationDeliveryRow",
    "NotificationOutboxRow",
    "PipelineRow",
    "PipelineVersionRow",
    "PolicyChangeRow",
    "PredictionRow",
    "ProbeSampleRow",
    "PromotionApprovalRow",
    "PromotionRequestRow",
    "ReferenceProfileRow",
    "RequestRollupRow",
    "RetrainPolicyRow",
    "RetrainRunRow",
    "RolloutRow",
    "RollupMarkRow",
    "RuleSetArmRow",
    "RuleSetRow",
    "SessionRow",
    "ShadowPredictionRow",
    "SignoffPolicyRow",
    "SlaStateRow",
    "SlaTargetRow",
    "UTCDateTime",
    "UserRoleRow",
    "UserRow",
    "VersionComparisonRow",
]
