"""Server-side drafts of studies: every change is saved, keyed to (EHR, patient, user, study),
with a revision number. A save names the revision it was made from and is refused when the
stored draft has moved on (optimistic concurrency: no silent overwrite) — unless it is a later
state of the very page that made the stored revision (`page_saves`). The study is stored
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
from smart_app.drafts.page_saves import SaveVerdict, save_verdict
from smart_app.drafts.problems import draft_problems, owned_study
from smart_app.drafts.unchanged import same_study
from smart_app.store.database import Database
from smart_app.store.drafts_tables import DraftRow
from smart_app.store.outbox_tables import SignedReportRow

__all__ = ["MAX_STUDY_JSON_CHARS", "DraftStore", "new_study_id"]

#: A study with every level and every free-text field filled is far below this.
MAX_STUDY_JSON_CHARS = 1_000_000
#: Tries of one save whose compare-and-swap lost to another writer (each try decides again on
#: what that writer stored); each loss means another save was written meanwhile.
_SAVE_ATTEMPTS = 3


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
            editor=None,
            editor_sequence=None,
        )
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            db.add(row)
        return _draft(row)

    async def save(
        self,
        owner: DraftOwner,
        draft_id: str,
        *,
        revision: int,
        study: Mapping[str, Any],
        editor: str | None = None,
        sequence: int | None = None,
    ) -> Draft:
        """Store `study` as the next revision of the draft, if `revision` is the stored one.

        `editor` and `sequence` name the page saving (one render of it) and its count of
        saves. A save from an older revision is still written when the draft, being edited,
        was last saved by that same page with a lower count (the page's later state); with a
        count not higher it is that page's older save arriving late: nothing is written and
        the stored draft is returned. Saving a change to a signed draft starts an amendment of
        the version it signed; saving it unchanged (as the model reads it) writes nothing and
        returns it as stored. Raises StaleDraftError (nothing written) when the draft has
        otherwise moved on since `revision`, DraftNotFoundError when the owner has no such
        draft.
        """
        if editor is None or sequence is None:
            editor, sequence = None, None  # a page is known by both or not at all
        current = await self.get(owner, draft_id)
        stored, problems = self._checked(owner, current.study_id, study)
        for _ in range(_SAVE_ATTEMPTS):
            verdict = save_verdict(current, revision=revision, editor=editor, sequence=sequence)
            if verdict is SaveVerdict.ARRIVED_LATE:
                return current
            if verdict is SaveVerdict.STALE:
                raise StaleDraftError(submitted=revision, current=current.revision)
            if current.state is DraftState.SIGNED and same_study(stored, current.study):
                # A page saved only to move on (to the preview, to the results): the signed
                # study stays signed, and no amendment repeats it as the next version.
                return current
            values: dict[str, Any] = {
                "revision": current.revision + 1,
                "state": DraftState.EDITING.value,
                "study_json": _dumps(stored),
                "problems_json": _problems_json(problems),
                "editor": editor,
                "editor_sequence": sequence,
                "updated_at": self._clock(),
            }
            if current.state is DraftState.SIGNED:
                values["based_on_version"] = current.signed_version
            # Compare-and-swap on what was just read (a signature keeps the revision but
            # changes the state and clears the editor): of two racing writers one wins.
            unchanged = [
                DraftRow.revision == current.revision,
                DraftRow.state == current.state.value,
            ]
            if verdict is SaveVerdict.LATER_STATE:
                unchanged.append(DraftRow.editor == editor)
            sessions = await self._database.ready()
            async with sessions.begin() as db:
                result = await db.execute(
                    update(DraftRow)
                    .where(*_owned(owner), DraftRow.id == draft_id, *unchanged)
                    .values(**values)
                )
            if getattr(result, "rowcount", 0) == 1:
                return await self.get(owner, draft_id)
            # Another writer came first: decide again on what it stored.
            current = await self.get(owner, draft_id)
        raise StaleDraftError(submitted=revision, current=current.revision)

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
                editor=None,
                editor_sequence=None,
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
                    # A page from before the signature must not write over the amendment.
                    editor=None,
                    editor_sequence=None,
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
        editor=row.editor,
        editor_sequence=row.editor_sequence,
    )
