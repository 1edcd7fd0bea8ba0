"""The candidacy assessment saved with a study draft: the assessment the clinician saw when
giving the attestations, who gave each and when, the parts of the chart that could not be
read, and the citation the report's indication carries. One row per draft, replaced when the
clinician assesses again.

Read only through a draft the caller already holds (the draft store checks its owner).
Patient data lives here by design (the product's store); it never goes to logs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from plugin.candidacy.assessment import Assessment
from smart_app.clock import Clock
from smart_app.store.database import Database
from smart_app.store.tables import Base
from smart_app.workflow.candidacy_attesters import (
    GivenAttestation,
    attestations_from_json,
    attestations_to_json,
)
from smart_app.workflow.candidacy_citation import CandidacyCitation
from smart_app.workflow.chart_reading import ChartGap

__all__ = ["CandidacyRecord", "CandidacyRecordRow", "CandidacyRecords"]


class CandidacyRecordRow(Base):
    __tablename__ = "study_candidacy"

    draft_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("study_drafts.id"), primary_key=True
    )
    policy_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    assessment_json: Mapped[str] = mapped_column(Text)
    # {"gaps": [...], "attested": [...]}; rows saved before attesters were recorded hold the
    # list of gaps alone. (Who attested lives here so that no migration is needed.)
    gaps_json: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)  # exactly what the report's indication cites
    saved_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True, slots=True)
class CandidacyRecord:
    assessment: Assessment
    gaps: tuple[ChartGap, ...]
    summary: str
    saved_at: float
    attested: tuple[GivenAttestation, ...] = ()  # who gave the assessment's attestations


class CandidacyRecords:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def save(
        self,
        draft_id: str,
        assessment: Assessment,
        gaps: tuple[ChartGap, ...],
        citation: CandidacyCitation,
        attested: Sequence[GivenAttestation] = (),
    ) -> CandidacyRecord:
        now = self._clock()
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            row = await db.get(CandidacyRecordRow, draft_id)
            if row is None:
                row = CandidacyRecordRow(draft_id=draft_id)
                db.add(row)
            row.policy_id = assessment.policy.id
            row.policy_version = assessment.policy.version
            row.outcome = assessment.outcome.value
            row.assessment_json = assessment.model_dump_json()
            row.gaps_json = json.dumps(
                {
                    "gaps": [{"resource_type": g.resource_type, "reason": g.reason} for g in gaps],
                    "attested": attestations_to_json(attested),
                },
                ensure_ascii=False,
            )
            row.summary = citation.summary
            row.saved_at = now
        return CandidacyRecord(assessment, gaps, citation.summary, now, tuple(attested))

    async def get(self, draft_id: str) -> CandidacyRecord | None:
        sessions = await self._database.ready()
        async with sessions() as db:
            row = (
                await db.execute(
                    select(CandidacyRecordRow).where(CandidacyRecordRow.draft_id == draft_id)
                )
            ).scalar_one_or_none()
        if row is None:
            return None
        stored: Any = json.loads(row.gaps_json)
        if isinstance(stored, list):  # saved before attesters were recorded
            stored = {"gaps": stored, "attested": []}
        return CandidacyRecord(
            assessment=Assessment.model_validate_json(row.assessment_json),
            gaps=tuple(ChartGap(**g) for g in stored["gaps"]),
            summary=row.summary,
            saved_at=row.saved_at,
            attested=attestations_from_json(stored["attested"]),
        )
