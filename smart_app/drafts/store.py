"""Server-side drafts of studies: every change is saved, keyed to (EHR, patient, user, study),
with a revision number. A save names the revision it was made from and is refused when the
stored draft has moved on (optimistic concurrency: no silent overwrite). The study is stored
as typed even when it does not validate yet, with the problems found, so no input is lost to a
token expiry, a closed iframe or an app restart.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from plugin.errors import InputProblemError, Problem
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets
from smart_app.clock import Clock
from smart_app.drafts.errors import DraftNotFoundError, DraftStateError, StaleDraftError
from smart_app.drafts.model import Draft, DraftState
from smart_app.drafts.owner import DraftOwner
from smart_app.drafts.problems import draft_problems, owned_study
from smart_app.store.database import Database
from smart_app.store.drafts_tables import DraftRow
from smart_app.store.outbox_tables import SignedReportRow

__all__ = ["MAX_STUDY_JSON_CHARS", "DraftStore", "new_study_id"]

#: A study with every level and every free-text field filled is far below this.
MAX_STUDY_JSON_CHARS = 1_000_000


def new_study_id() -> str:
    """A study id (the key of every identifier the report writes): random, URL-safe."""
    return f"dg-{uuid.uuid4().hex}"


class DraftStore:
    def __init__(
        self, database: Database, *, clock: Clock, library: RuleSetLibrary | None = None
    ) -> None:
        self._database = database
        self._clock = clock
        self._library = library or default_rule_sets()

    async def create(self, owner: DraftOwner, study: Mapping[str, Any] | None = None) -> Draft:
        """A new draft (revision 1) for a new study, starting from `study` (or empty)."""
        study_id = new_study_id()
        stored, problems = self._checked(owner, study_id, study or {"levels": []})
        now = self._clock()
        row = DraftRow(
            id=str(uuid.uuid4()),
            ehr_iss=owner.iss,
            patient_id=owner.patient_id,
            user_id=owner.user_id,
            study_id=study_id,
            revision=1,
            state=DraftState.EDITING.value,
            study_json=_dumps(stored),
            problems_json=_problems_json(problems),
            based_on_version=None,
            signed_version=None,
            created_at=now,
            updated_at=now,
        )
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            db.add(row)
        return _draft(row)

    async def save(
        self, owner: DraftOwner, draft_id: str, *, revision: int, study: Mapping[str, Any]
    ) -> Draft:
        """Store `study` as the next revision of the draft, if `revision` is the stored one.

        Saving a signed draft starts an amendment of the version it signed. Raises
        StaleDraftError (nothing written) when the draft has moved on since `revision`,
        DraftNotFoundError when the owner has no such draft.
        """
        current = await self.get(owner, draft_id)
        stored, problems = self._checked(owner, current.study_id, study)
        values: dict[str, Any] = {
            "revision": revision + 1,
            "state": DraftState.EDITING.value,
            "study_json": _dumps(stored),
            "problems_json": _problems_json(problems),
            "updated_at": self._clock(),
        }
        if current.state is DraftState.SIGNED:
            values["based_on_version"] = current.signed_version
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            result = await db.execute(
                update(DraftRow)
                .where(*_owned(owner), DraftRow.id == draft_id, DraftRow.revision == revision)
                .values(**values)
            )
        if getattr(result, "rowcount", 0) != 1:
            latest = await self.get(owner, draft_id)
            raise StaleDraftError(submitted=revision, current=latest.revision)
        return await self.get(owner, draft_id)

    async def get(self, owner: DraftOwner, draft_id: str) -> Draft:
        sessions = await self._database.ready()
        async with sessions() as db:
            row = (
                await db.execute(select(DraftRow).where(*_owned(owner), DraftRow.id == draft_id))
            ).scalar_one_or_none()
        if row is None:
            raise DraftNotFoundError()
        return _draft(row)

    async def resume(self, owner: DraftOwner) -> Draft | None:
        """The draft to reopen the app on: the owner's latest unsigned one for the patient."""
        drafts = await self.drafts(owner)
        return next((d for d in drafts if d.state is DraftState.EDITING), None)

    async def drafts(self, owner: DraftOwner) -> list[Draft]:
        """Every draft of the owner for the patient, most recently changed first."""
        sessions = await self._database.ready()
        async with sessions() as db:
            rows = (
                (
                    await db.execute(
                        select(DraftRow)
                        .where(*_owned(owner))
                        .order_by(DraftRow.updated_at.desc(), DraftRow.id)
                    )
                )
                .scalars()
                .all()
            )
        return [_draft(row) for row in rows]

    async def amend(self, owner: DraftOwner, study_id: str) -> Draft:
        """A draft to amend the latest signed version of a study of this patient: the owner's
        own draft of it reopened, or a new one starting from what was signed."""
        sessions = await self._database.ready()
        async with sessions() as db:
            signed = (
                await db.execute(
                    select(SignedReportRow)
                    .where(
                        SignedReportRow.ehr_iss == owner.iss,
                        SignedReportRow.patient_id == owner.patient_id,
                        SignedReportRow.study_key == study_id,
                    )
                    .order_by(SignedReportRow.version.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            mine = (
                await db.execute(
                    select(DraftRow).where(*_owned(owner), DraftRow.study_id == study_id)
                )
            ).scalar_one_or_none()
        if signed is None:
            raise DraftNotFoundError()
        if mine is not None and mine.state == DraftState.EDITING.value:
            return _draft(mine)  # already being amended: keep the typed changes
        study = json.loads(signed.study_json)
        _, problems = self._checked(owner, study_id, study)
        now = self._clock()
        if mine is None:
            row = DraftRow(
                id=str(uuid.uuid4()),
                ehr_iss=owner.iss,
                patient_id=owner.patient_id,
                user_id=owner.user_id,
                study_id=study_id,
                revision=1,
                state=DraftState.EDITING.value,
                study_json=signed.study_json,
                problems_json=_problems_json(problems),
                based_on_version=signed.version,
                signed_version=None,
                created_at=now,
                updated_at=now,
            )
            async with sessions.begin() as db:
                db.add(row)
            return _draft(row)
        async with sessions.begin() as db:
            result = await db.execute(
                update(DraftRow)
                .where(
                    DraftRow.id == mine.id,
                    DraftRow.revision == mine.revision,
                    DraftRow.state == DraftState.SIGNED.value,
                )
                .values(
                    revision=mine.revision + 1,
                    state=DraftState.EDITING.value,
                    study_json=signed.study_json,
                    problems_json=_problems_json(problems),
                    based_on_version=signed.version,
                    updated_at=now,
                )
            )
        if getattr(result, "rowcount", 0) != 1:
            raise DraftStateError(
                "This study was changed in another window at the same moment; reload it.",
                "concurrent amend of the same draft",
            )
        return await self.get(owner, mine.id)

    def _checked(
        self, owner: DraftOwner, study_id: str, study: Mapping[str, Any]
    ) -> tuple[dict[str, Any], tuple[Problem, ...]]:
        if not isinstance(study, Mapping):
            raise InputProblemError(
                [Problem("study", "type", "a study draft must be a JSON object")], "study draft"
            )
        stored = owned_study(study, owner, study_id)
        if len(_dumps(stored)) > MAX_STUDY_JSON_CHARS:
            raise InputProblemError(
                [
                    Problem(
                        "study",
                        "max-size",
                        f"is larger than {MAX_STUDY_JSON_CHARS:,} characters of JSON",
                    )
                ],
                "study draft",
            )
        return stored, draft_problems(stored, owner, self._library)


def _owned(owner: DraftOwner) -> tuple[Any, ...]:
    return (
        DraftRow.ehr_iss == owner.iss,
        DraftRow.patient_id == owner.patient_id,
        DraftRow.user_id == owner.user_id,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _problems_json(problems: tuple[Problem, ...]) -> str:
    return _dumps([{"field": p.field, "rule": p.rule, "message": p.message} for p in problems])


def _draft(row: DraftRow) -> Draft:
    return Draft(
        id=row.id,
        owner=DraftOwner(row.ehr_iss, row.patient_id, row.user_id),
        study_id=row.study_id,
        revision=row.revision,
        state=DraftState(row.state),
        study=json.loads(row.study_json),
        problems=tuple(Problem(**p) for p in json.loads(row.problems_json)),
        based_on_version=row.based_on_version,
        signed_version=row.signed_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
