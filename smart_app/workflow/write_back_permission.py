"""Whether this session may sign and send a report, and why not, from what the EHR granted
(`smart_app.features`): a clinician must not find out through a failed write that the report
could never have been written."""

from __future__ import annotations

from dataclasses import dataclass

from smart_app.features import Feature, FeatureState, feature_statuses
from smart_app.session import SmartSession

__all__ = ["WritePermission", "write_permission"]


@dataclass(frozen=True, slots=True)
class WritePermission:
    allowed: bool
    reasons: tuple[str, ...]  # why not (disabled), or what will be left out (limited)


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


def write_permission(session: SmartSession) -> WritePermission:
    statuses = feature_statuses(
        session.granted,
        has_refresh_token=session.refresh_token is not None,
        user_known=session.user_name is not None,
    )
    write_back = next(s for s in statuses if s.feature is Feature.WRITE_BACK)
    return WritePermission(
        allowed=write_back.state is not FeatureState.DISABLED,
        reasons=tuple(_sentence(r) for r in write_back.reasons),
    )
