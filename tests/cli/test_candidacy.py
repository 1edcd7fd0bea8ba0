"""`discogram candidacy`: the assessment as JSON on stdout; bad input exits 2 with one line
per problem on stderr and nothing on stdout."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import plugin.cli
from plugin.candidacy.policy_file import policy_path
from plugin.cli import main
from plugin.sandbox.synthetic_patients import Scenario
from tests.candidacy.chart_builder import CPT, TODAY, good_lumbar_chart
from tests.candidacy.synthetic_charts import expected_items, patient_charts, scenarios


@pytest.fixture(autouse=True)
def _with_candidacy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The lead registers the sub-command in plugin.cli._COMMANDS; until then, tests add it.
    if "candidacy" not in plugin.cli._COMMANDS:
        monkeypatch.setattr(plugin.cli, "_COMMANDS", (*plugin.cli._COMMANDS, "candidacy"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["candidacy", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def as_bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)],
    }


LUMBAR_ORDER = {"region": "lumbar", "levels": ["L3-L4", "L4-L5", "L5-S1"]}
BOTH = "imaging-inconclusive,decision-hinges"


def test_prints_the_assessment(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    chart = write(tmp_path, "chart.json", as_bundle(good_lumbar_chart()))
    order = write(tmp_path, "order.json", LUMBAR_ORDER)
    code, out, err = run(
        capsys, str(chart), "--order", str(order), "--attest", BOTH, "--today", TODAY.isoformat()
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["policy"] == {
        "id": "discography-referral",
        "version": "1.3.0",
        "title": "Discography referral: candidacy and pre-procedure safety (product default)",
    }
    assert document["outcome"] == "candidate"
    assert document["today"] == "2025-06-15"
    assert document["order"] == {"region": "lumbar", "levels": ["L3-L4", "L4-L5", "L5-S1"]}
    pain = document["criteria"][0]
    assert set(pain) == {"id", "title", "status", "explanation", "evidence"}
    assert (pain["id"], pain["status"]) == ("persistent-axial-pain", "met")
    assert pain["evidence"][0] == {
        "reference": "Condition/lbp",
        "display": "Chronic low back pain",
        "date": "2024-04-15",
        "value": "onset",
    }
    assert [s["id"] for s in document["safety"]] == ["drug-note-naproxen"]
    assert [n["id"] for n in document["payer_notes"]] == ["wa-lni-low-back"]


def test_attestations_may_be_repeated_and_are_optional(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart = write(tmp_path, "chart.json", good_lumbar_chart())  # a plain list of resources
    order = write(tmp_path, "order.json", LUMBAR_ORDER)
    common = (str(chart), "--order", str(order), "--today", "2025-06-15")
    code, out, _ = run(
        capsys, *common, "--attest", "imaging-inconclusive", "--attest", "decision-hinges"
    )
    assert (code, json.loads(out)["outcome"]) == (0, "candidate")
    code, out, _ = run(capsys, *common)
    document = json.loads(out)
    assert (code, document["outcome"], document["attestations"]) == (0, "needs-review", [])
    unknown = {c["id"]: c["resolve"] for c in document["criteria"] if c["status"] == "unknown"}
    assert unknown == {
        "imaging-inconclusive": "Attest that imaging does not explain the patient's pain.",
        "treatment-decision": "Attest that a surgical or disc-directed treatment is under "
        "consideration, or a failed fusion is being evaluated, and the decision depends on the "
        "discography result.",
    }


def test_the_order_comes_from_a_service_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    request = {
        "resourceType": "ServiceRequest",
        "id": "disco",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": CPT, "code": "62290"}]},
        "bodySite": [{"text": "L4-L5"}],
    }
    chart = write(tmp_path, "chart.json", good_lumbar_chart())
    order = write(tmp_path, "order.json", request)
    code, out, _ = run(capsys, str(chart), "--order", str(order), "--today", "2025-06-15")
    assert json.loads(out)["order"] == {
        "region": "lumbar",
        "levels": ["L4-L5"],
        "reference": "ServiceRequest/disco",
    }
    # Without --order, the open discography order in the chart is used.
    with_request = write(tmp_path, "chart2.json", [*good_lumbar_chart(), request])
    code, out, _ = run(capsys, str(with_request), "--today", "2025-06-15")
    assert (code, json.loads(out)["order"]["reference"]) == (0, "ServiceRequest/disco")


def test_a_site_policy_file_replaces_the_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = json.loads(policy_path().read_text(encoding="utf-8"))
    site["version"] = "1.1.0"
    site["criteria"][1]["min_duration_months"] = 9
    policy = write(tmp_path, "site.json", site)
    chart = write(tmp_path, "chart.json", good_lumbar_chart())
    order = write(tmp_path, "order.json", LUMBAR_ORDER)
    code, out, _ = run(
        capsys,
        str(chart),
        "--order",
        str(order),
        "--attest",
        BOTH,
        "--today",
        "2025-06-15",
        "--policy-file",
        str(policy),
    )
    document = json.loads(out)
    assert (code, document["policy"]["version"], document["outcome"]) == (
        0,
        "1.1.0",
        "not-candidate",
    )


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.patient_id)
def test_each_synthetic_patient_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, scenario: Scenario
) -> None:
    today = date(2026, 1, 31)
    chart = write(tmp_path, "chart.json", as_bundle(patient_charts(today)[scenario.patient_id]))
    order = write(tmp_path, "order.json", {"region": scenario.region, "levels": scenario.levels})
    code, out, err = run(
        capsys, str(chart), "--order", str(order), "--attest", BOTH, "--today", today.isoformat()
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    deciding = {c["id"]: c["status"] for c in document["criteria"] if c["status"] != "met"}
    deciding |= {s["id"]: s["severity"] for s in document["safety"] if s["severity"] != "info"}
    assert (document["outcome"], deciding) == (scenario.expected_outcome, expected_items(scenario))


@pytest.mark.parametrize(
    ("chart", "extra", "expected"),
    [
        ("{not json", (), "chart.json: not valid JSON at line 1 column 2"),
        (
            {"resourceType": "Patient", "id": "p"},
            (),
            "chart.json: resourceType: a chart must be a Bundle or a list of resources "
            "(got a Patient)",
        ),
        ([{"id": "x"}], (), "chart.json: [0].resourceType: resourceType is required"),
        (
            [],
            ("--attest", "imaging-inconclusive,guess"),
            "attestations: unknown attestation 'guess'; expected one of decision-hinges, "
            "imaging-inconclusive",
        ),
        (
            [],
            ("--today", "15/06/2025"),
            "--today: must be a date such as 2025-06-15 (got '15/06/2025')",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_per_problem(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    chart: Any,
    extra: tuple[str, ...],
    expected: str,
) -> None:
    path = write(tmp_path, "chart.json", chart)
    code, out, err = run(capsys, str(path), *extra)
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        (
            ["x", {"foo": 1}, None],
            "chart.json: 3 entries are bad; the first: [0]: a resource must be an object",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": ["x", {"resource": {"resourceType": "Patient"}}, None],
            },
            "chart.json: 2 entries are bad; the first: entry[0]: must be an object",
        ),
    ],
)
def test_many_bad_chart_entries_are_one_line_counting_them_and_naming_the_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, chart: Any, expected: str
) -> None:
    code, out, err = run(capsys, str(write(tmp_path, "chart.json", chart)))
    assert (code, out) == (2, "")
    assert err == f"error: {tmp_path / expected}\n"


def test_every_problem_is_reported_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart = write(tmp_path, "chart.json", "[")
    order = write(tmp_path, "order.json", {"region": "sacral"})
    code, out, err = run(
        capsys, str(chart), "--order", str(order), "--attest", "nope", "--today", "soon"
    )
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 4


def test_a_bad_policy_file_names_the_file_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = json.loads(policy_path().read_text(encoding="utf-8"))
    broken = copy.deepcopy(site)
    broken["criteria"][0]["min_duration_months"] = 0
    policy = write(tmp_path, "site.json", broken)
    chart = write(tmp_path, "chart.json", [])
    code, out, err = run(capsys, str(chart), "--policy-file", str(policy))
    assert (code, out) == (2, "")
    assert (
        err.strip()
        == f"error: {policy}: criteria[0].min_duration_months: must be at least 1 (got 0)"
    )


def test_an_unreadable_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, str(tmp_path / "missing.json"))
    assert (code, out) == (2, "")
    missing = tmp_path / "missing.json"
    assert err.strip() == f"discogram candidacy: cannot read {missing}: No such file or directory"
