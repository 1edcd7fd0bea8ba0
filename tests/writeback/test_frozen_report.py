"""Freezing a signed report: the exact Bundle, canonical JSON, SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from plugin.errors import InputProblemError, StudyInvalidError
from plugin.writeback import freeze_bundle, freeze_study, thaw_report
from plugin.writeback.frozen_report import canonical_json
from tests.writeback.studies import ISSUED, frozen, frozen_lumbar, library, lumbar_study


def test_the_hash_is_the_sha256_of_the_canonical_text() -> None:
    report = frozen_lumbar()
    assert report.content_hash == hashlib.sha256(report.canonical.encode("utf-8")).hexdigest()
    assert report.canonical == canonical_json(json.loads(report.canonical))
    assert report.study_key == "study-1"


def test_the_same_study_signed_at_the_same_time_freezes_to_the_same_bytes() -> None:
    assert frozen(lumbar_study()).content_hash == frozen_lumbar().content_hash


def test_free_text_keeps_its_characters_and_changes_the_hash() -> None:
    study = lumbar_study()
    study["levels"][1]["pain_location"] = 'Low back <script>alert("x")</script> — боль 腰痛'
    report = frozen(study)
    assert "боль 腰痛" in report.canonical  # UTF-8 as is, not \\u escapes
    assert report.content_hash != frozen_lumbar().content_hash
    observation = report.entries()[2].resource
    texts = json.dumps(observation, ensure_ascii=False)
    assert '<script>alert(\\"x\\")</script>' in texts


def test_entries_carry_the_products_identity() -> None:
    entries = frozen_lumbar().entries()
    assert [e.resource_type for e in entries] == [
        "Procedure",
        "Observation",
        "Observation",
        "Observation",
        "DiagnosticReport",
        "DocumentReference",
        "Provenance",
    ]
    assert entries[-1].search_parameter == "_tag"
    assert entries[0].identifier_value == "study-1.procedure"


def test_a_stored_report_whose_text_changed_is_refused() -> None:
    report = frozen_lumbar()
    assert thaw_report(report.canonical, report.content_hash) == report
    tampered = report.canonical.replace('"final"', '"preliminary"', 1)
    with pytest.raises(InputProblemError) as refused:
        thaw_report(tampered, report.content_hash)
    assert refused.value.problems[0].rule == "frozen-content-changed"


def test_a_bundle_without_the_products_identity_cannot_be_frozen() -> None:
    bundle = json.loads(frozen_lumbar().canonical)
    bundle["entry"][2]["request"]["ifNoneExist"] = "identifier=urn:other|x"
    with pytest.raises(InputProblemError) as refused:
        freeze_bundle(bundle)
    assert refused.value.problems[0].field == "entry[2].request.ifNoneExist"


def test_a_study_that_cannot_be_signed_reports_every_problem() -> None:
    study = lumbar_study()
    del study["patient"]
    study["levels"][0]["pain_intensity"] = 11
    with pytest.raises(StudyInvalidError) as refused:
        freeze_study(study, issued=ISSUED, document_type="18748-4", library=library())
    assert {p.field for p in refused.value.problems} >= {"levels[0].pain_intensity"}
    study = lumbar_study()
    del study["patient"]
    with pytest.raises(StudyInvalidError) as refused:
        freeze_study(study, issued=ISSUED, document_type="18748-4", library=library())
    assert [p.field for p in refused.value.problems] == ["patient"]


def test_a_procedure_dated_after_the_signature_cannot_be_signed() -> None:
    study = lumbar_study()
    study["performed"] = (ISSUED + timedelta(days=1)).isoformat()
    with pytest.raises(StudyInvalidError) as refused:
        freeze_study(study, issued=ISSUED, document_type="18748-4", library=library())
    assert [(p.field, p.rule) for p in refused.value.problems] == [
        ("performed", "performed-in-future")
    ]
