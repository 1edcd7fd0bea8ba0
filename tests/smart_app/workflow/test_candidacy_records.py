"""The candidacy assessment saved with a draft keeps who gave each attestation and when, and
still reads rows saved before attesters were recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from plugin.candidacy import default_policy
from smart_app.drafts import DraftOwner, DraftStore
from smart_app.store import Database
from smart_app.workflow.candidacy_attesters import Attester, GivenAttestation
from smart_app.workflow.candidacy_citation import cite_assessment
from smart_app.workflow.candidacy_records import CandidacyRecordRow, CandidacyRecords
from smart_app.workflow.chart_reading import ChartGap
from tests.candidacy.chart_builder import BOTH, LUMBAR, assess, good_lumbar_chart
from tests.smart_app.conftest import FakeClock
from tests.writeback.studies import library

OWNER = DraftOwner("https://ehr.example/fhir", "lumbar-candidate", "Practitioner/pt")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


async def test_who_attested_is_saved_with_the_assessment(
    database: Database, clock: FakeClock
) -> None:
    draft = await DraftStore(database, clock=clock, library=library()).create(OWNER)
    records = CandidacyRecords(database, clock=clock)
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=BOTH)
    therapist = Attester("Practitioner/pt", "Physical-Therapist Testtherapist", None)
    given = tuple(GivenAttestation(a, therapist, 1_795_000_000.0) for a in BOTH)
    gaps = (ChartGap("AllergyIntolerance", "the EHR did not grant searching it"),)
    citation = cite_assessment(assessment, default_policy(), gaps, given)
    await records.save(draft.id, assessment, gaps, citation, given)

    record = await records.get(draft.id)
    assert record is not None
    assert record.attested == given and record.gaps == gaps
    assert "Attested by Physical-Therapist Testtherapist on " in record.summary


async def test_a_row_saved_before_attesters_were_recorded_still_reads(
    database: Database, clock: FakeClock
) -> None:
    draft = await DraftStore(database, clock=clock, library=library()).create(OWNER)
    records = CandidacyRecords(database, clock=clock)
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=BOTH)
    await records.save(draft.id, assessment, (), cite_assessment(assessment, default_policy()))
    sessions = await database.ready()
    async with sessions.begin() as db:
        old_shape = json.dumps([{"resource_type": "Observation", "reason": "timed out"}])
        await db.execute(
            update(CandidacyRecordRow)
            .where(CandidacyRecordRow.draft_id == draft.id)
            .values(gaps_json=old_shape)
        )
    record = await records.get(draft.id)
    assert record is not None
    assert record.gaps == (ChartGap("Observation", "timed out"),) and record.attested == ()
