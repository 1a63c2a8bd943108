"""Does a signature stand on its own audit event? The check that makes an approval row unforgeable alone.

An approval row says who signed, with which roles, for which artifact. Anyone
who can write the database could insert such a row; what they cannot do (with
the chain keyed) is produce the audit event that records it. So a signature
counts only when its own event exists, verifies, and names the same request,
approver, roles and artifact digest; execution, ``steward audit verify`` and
the release certificate all ask this one function.
"""

from __future__ import annotations

import json
from typing import Any

from steward.core.domain.audit import StoredEvent
from steward.core.domain.promotions import Approval


def _after(event: StoredEvent) -> dict[str, Any]:
    try:
        value = json.loads(event.after_json or "null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def binding_problem(
    approval: Approval, event: StoredEvent | None, *, authentic: bool, shared_with: int | None = None
) -> str:
    """Why ``approval`` does not stand on its audit event ('' when it does)."""
    seq = approval.audit_seq
    if seq is None:
        return "it has no audit event"
    if shared_with is not None:
        return f"its audit event #{seq} records approval #{shared_with}, not this one"
    if event is None:
        return f"its audit event #{seq} does not exist"
    if not authentic:
        return f"its audit event #{seq} does not verify"
    if event.action != f"promotion.{approval.decision.value}" or event.outcome != "ok":
        return f"its audit event #{seq} records {event.action} ({event.outcome}), not this signature"
    if event.object_type != "promotion_request" or event.object_id != str(approval.request_id):
        return f"its audit event #{seq} is about {event.object_type} {event.object_id}, not this request"
    if event.actor != approval.approver:
        return f"its audit event #{seq} was recorded for {event.actor}, not {approval.approver}"
    after = _after(event)
    found = after.get("bound_to")
    bound: dict[str, Any] = found if isinstance(found, dict) else {}
    if bound.get("artifact_sha256") != approval.artifact_sha256:
        return f"its audit event #{seq} binds another artifact digest"
    if bound.get("version_id") != approval.version_id:
        return f"its audit event #{seq} binds another version"
    recorded = {str(r) for r in after.get("roles") or ()}
    claimed = {role.value for role in approval.roles}
    if not claimed <= recorded:
        extra = ", ".join(sorted(claimed - recorded))
        return f"it claims roles ({extra}) its audit event #{seq} does not record"
    return ""
