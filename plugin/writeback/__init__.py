"""Write-back of a signed report to an EHR, decided in pure code: the frozen report and its
content hash, the strategy (full / per-resource / document) chosen from the server's
capabilities, the registration and the granted scopes, and the ordered write plan the outbox
executes with exactly-once checks. No I/O: `smart_app.outbox` sends what these modules plan.
"""

from plugin.writeback.amendment import KnownResource
from plugin.writeback.frozen_report import (
    FrozenEntry,
    FrozenReport,
    SignedContent,
    freeze_bundle,
    freeze_study,
    thaw_report,
)
from plugin.writeback.plan import (
    TEXT_ONLY,
    KnownReference,
    ReferenceRewrite,
    StepAction,
    StepRole,
    WritePlan,
    WriteStep,
    build_plan,
)
from plugin.writeback.strategy import (
    LookupMethod,
    ServerFeatures,
    StrategyDecision,
    WriteAccess,
    WriteStrategy,
    choose_strategy,
)

__all__ = [
    "TEXT_ONLY",
    "FrozenEntry",
    "FrozenReport",
    "KnownReference",
    "KnownResource",
    "LookupMethod",
    "ReferenceRewrite",
    "ServerFeatures",
    "SignedContent",
    "StepAction",
    "StepRole",
    "StrategyDecision",
    "WriteAccess",
    "WritePlan",
    "WriteStep",
    "WriteStrategy",
    "build_plan",
    "choose_strategy",
    "freeze_bundle",
    "freeze_study",
    "thaw_report",
]
