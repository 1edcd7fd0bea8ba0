"""Studies mapped to FHIR by the product itself (validated, interpreted, mapped), to check
what the mapper writes against the profiles."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from typing import Any

from plugin.fhir_mapping import map_study
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import default_rule_sets
from plugin.report.render import render_report
from plugin.report.rendered import RenderedReport
from plugin.study.validation import parse_study

ISSUED = datetime(2026, 11, 21, 8, 15, tzinfo=timezone(timedelta(hours=9)))

#: A small stand-in for the rendered report, where the test is about the FHIR shapes only.
SMALL_REPORT = RenderedReport(
    html='<!DOCTYPE html><html lang="en"><body><p>Discography</p></body></html>',
    pdf=b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
    text="Provocative discography\n",
)


def example_study() -> dict[str, Any]:
    """The shipped lumbar three-level example, a fresh copy."""
    text = (files("plugin.examples") / "lumbar-three-level.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def mapped_bundle(
    data: dict[str, Any], *, real_report: bool = False, document_type: str = "18748-4"
) -> dict[str, Any]:
    """The transaction Bundle the product writes for study `data`."""
    library = default_rule_sets()
    study = parse_study(data).study
    interpretation = interpret_study(study, library)
    rendered = render_report(study, interpretation, issued=ISSUED) if real_report else SMALL_REPORT
    mapped = map_study(
        study,
        interpretation,
        rendered,
        issued=ISSUED,
        document_type=document_type,
        software_version="9.9.9",
        library=library,
    )
    return mapped.transaction_bundle()


def five_level_study() -> dict[str, Any]:
    """The example with two more levels: an aborted one and a painless control."""
    data = example_study()
    data["levels"] += [
        {
            "level": "L1-L2",
            "role": "control",
            "order": 4,
            "technical_result": "aborted",
            "abort_reason": "Patient moved during needle placement",
        },
        {
            "level": "L2-L3",
            "role": "control",
            "order": 5,
            "opening_pressure_psi": 11.0,
            "peak_pressure_psi": 90.0,
            "total_volume_ml": 1.2,
            "pain_intensity": 0,
            "pain_response": "none",
        },
    ]
    return data
