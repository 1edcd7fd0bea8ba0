"""Signing a draft: the study is validated fully, interpreted, rendered and mapped with the
signing time as its time of issue, and the resulting Bundle frozen (canonical JSON + SHA-256).
In ONE database transaction the draft is marked signed, the frozen version stored and its
outbox item queued — so a signed report is never without its item, and an item never without
its report.

Signing is idempotent per draft revision: a second "sign" of the same revision (a double
click, two tabs, a retried request) returns the version the first one made.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from plugin.errors import StudyInvalidError
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.writeback import SignedContent, freeze_study
from smart_app.clock import Clock
from smart_app.drafts import (
    Draft,
    DraftOwner,
    DraftState,
    DraftStateError,
    DraftStore,
    StaleDraftError,
)
from smart_app.drafts.problems import draft_problems
from smart_app.outbox.connector import SessionRefs
from smart_app.outbox.records import SignedVersion
from smart_app.outbox.states import ItemState
from smart_app.store.database import Database
from smart_app.store.drafts_tables import DraftRow
from smart_app.store.outbox_tables import OutboxItemRow, SignedReportRow

__all__ = ["SigningService"]


class SigningService:
    def __init__(
        self,
        database: Database,
        drafts: DraftStore,
        *,
        clock: Clock,
        library: RuleSetLibrary,
        refs: SessionRefs,
        on_signed: Callable[[], None] | None = None,
    ) -> None:
        self._database = database
        self._drafts = drafts
        self._clock = clock
        self._library = library
        self._refs = refs
        self._on_signed = on_signed

    async def sign(
        self,
        owner: DraftOwner,
        draft_id: str,
        *,
        revision: int,
        session_id: str,
        document_type: str = "18748-4",
        candidacy_summary: str | None = None,
    ) -> SignedVersion:
        """Sign revision `revision` of the draft and queue it for the chart, to be written
        with the session `session_id`.

        Raises StudyInvalidError (every problem) when the study cannot be signed,
        StaleDraftError when the draft has moved on from `revision`, DraftStateError when a
        newer version of the study was signed meanwhile.
        """
        draft = await self._drafts.get(owner, draft_id)
        if draft.state is DraftState.SIGNED:
            return await self._already_signed(draft, revision)
        if draft.revision != revision:
            raise StaleDraftError(submitted=revision, current=draft.revision)
        problems = draft_problems(draft.study, owner, self._library)
        if problems:
            raise StudyInvalidError(list(problems))
        now = self._clock()
        content = freeze_study(
            draft.study,
            issued=datetime.fromtimestamp(now, UTC).replace(microsecond=0),
            document_type=document_type,
            library=self._library,
            candidacy_summary=candidacy_summary,
        )
        try:
            signed = await self._store(draft, content, document_type, session_id, now)
        except IntegrityError:
            raise DraftStateError(
                "Another version of this report was signed at the same moment. Reload the "
                "report to see it before signing again.",
                "concurrent signing of two drafts of one study",
            ) from None
        if signed is None:  # lost the race to another "sign" of the same draft
            latest = await self._drafts.get(owner, draft_id)
            if latest.state is DraftState.SIGNED:
                return await self._already_signed(latest, revision)
            raise StaleDraftError(submitted=revision, current=latest.revision)
        if self._on_signed is not None:
            self._on_signed()
        return signed

    async def _store(
        self,
        draft: Draft,
        content: SignedContent,
        document_type: str,
        session_id: str,
        now: float,
    ) -> SignedVersion | None:
        owner = draft.owner
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            # The write comes first: on SQLite it takes the lock before anything is read.
            claimed = await db.execute(
                update(DraftRow)
                .where(
                    DraftRow.id == draft.id,
                    DraftRow.revision == draft.revision,
                    DraftRow.state == DraftState.EDITING.value,
                )
                # The page that typed it may no longer write over it as its own later state.
                .values(
                    state=DraftState.SIGNED.value,
                    editor=None,
                    editor_sequence=None,
                    updated_at=now,
                )
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return None
            latest = (
                await db.execute(
                    select(func.max(SignedReportRow.version)).where(
                        SignedReportRow.ehr_iss == owner.iss,
                        SignedReportRow.study_key == draft.study_id,
                    )
                )
            ).scalar_one_or_none()
            if latest != draft.based_on_version:
                raise DraftStateError(
                    f"Version {latest} of this report was signed by someone else after you "
                    "started your changes. Open the latest version and make your changes there.",
                    "the draft amends an older version than the latest signed one",
                )
            version = (latest or 0) + 1
            await db.execute(
                update(DraftRow).where(DraftRow.id == draft.id).values(signed_version=version)
            )
            report_id, item_id = str(uuid.uuid4()), str(uuid.uuid4())
            db.add(
                SignedReportRow(
                    id=report_id,
                    draft_id=draft.id,
                    ehr_iss=owner.iss,
                    patient_id=owner.patient_id,
                    user_id=owner.user_id,
                    study_key=draft.study_id,
                    version=version,
                    signed_at=now,
                    document_type=document_type,
                    study_json=json.dumps(
                        content.study.model_dump(mode="json", exclude_none=True),
                        ensure_ascii=False,
                    ),
                    bundle_json=content.report.canonical,
                    content_hash=content.report.content_hash,
                )
            )
            await db.flush()  # the report row first: the item refers to it
            db.add(
                OutboxItemRow(
                    id=item_id,
                    report_id=report_id,
                    ehr_iss=owner.iss,
                    patient_id=owner.patient_id,
                    user_id=owner.user_id,
                    study_key=draft.study_id,
                    version=version,
                    state=ItemState.QUEUED.value,
                    session_ref=self._refs.seal(session_id),
                    attempts=0,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    strategy=None,
                    plan_json=None,
                    last_error=None,
                    in_doubt=0,
                    notes_json="[]",
                    created_at=now,
                    updated_at=now,
                    written_at=None,
                )
            )
        return SignedVersion(
            report_id=report_id,
            item_id=item_id,
            study_key=draft.study_id,
            version=version,
            content_hash=content.report.content_hash,
            signed_at=now,
        )

    async def _already_signed(self, draft: Draft, revision: int) -> SignedVersion:
        if draft.revision != revision or draft.signed_version is None:
            raise StaleDraftError(submitted=revision, current=draft.revision)
        sessions = await self._database.ready()
        async with sessions() as db:
            found = (
                await db.execute(
                    select(SignedReportRow, OutboxItemRow)
                    .join(OutboxItemRow, OutboxItemRow.report_id == SignedReportRow.id)
                    .where(
                        SignedReportRow.draft_id == draft.id,
                        SignedReportRow.version == draft.signed_version,
                    )
                )
            ).one_or_none()
        if found is None:
            raise DraftStateError(
                "This report is marked signed but its signed version cannot be found.",
                "signed draft without its signed report row",
            )
        report, item = found
        return SignedVersion(
            report_id=report.id,
            item_id=item.id,
            study_key=report.study_key,
            version=report.version,
            content_hash=report.content_hash,
            signed_at=report.signed_at,
        )
