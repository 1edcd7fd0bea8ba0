"""The preview renders what signing renders."""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import plugin.examples
from plugin.errors import InputProblemError
from plugin.interpretation.rule_set import default_rule_sets
from plugin.writeback import freeze_study
from smart_app.workflow.report_preview import preview_issued, preview_report

EXAMPLE = json.loads(
    (Path(plugin.examples.__file__).parent / "lumbar-three-level.json").read_text("utf-8")
)


def test_the_preview_is_the_signed_reports_note_but_for_the_time_of_issue() -> None:
    issued = preview_issued(1_795_600_000.75)  # after the example study was performed
    assert issued == datetime(2026, 11, 25, 9, 46, 40, tzinfo=UTC)
    rendered = preview_report(
        EXAMPLE, issued=issued, candidacy_summary="Candidate.", library=default_rule_sets()
    )
    signed = freeze_study(
        EXAMPLE,
        issued=issued,
        document_type="18748-4",
        library=default_rule_sets(),
        candidacy_summary="Candidate.",
    )
    note = next(
        e.resource for e in signed.report.entries() if e.resource_type == "DocumentReference"
    )
    texts = [
        c["attachment"]
        for c in note["content"]
        if c["attachment"]["contentType"].startswith("text/plain")
    ]
    assert base64.b64decode(texts[0]["data"]).decode("utf-8") == rendered.text


def test_a_study_that_cannot_be_filed_is_not_previewed() -> None:
    without_patient = {k: v for k, v in EXAMPLE.items() if k != "patient"}
    with pytest.raises(InputProblemError) as raised:
        preview_report(
            without_patient,
            issued=preview_issued(0),
            candidacy_summary=None,
            library=default_rule_sets(),
        )
    assert [p.field for p in raised.value.problems] == ["patient"]
