"""Reconciliation compares the chart's copy with what the app sent by FHIR meaning: an EHR
that stores a dateTime in UTC, with other fractional digits, or a decimal in another lexical
form has not changed the resource; any other difference is still a change."""

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest

from plugin.writeback.reconciliation import content_matches, unchanged_since_written


def _sent(effective: Any = "2026-03-01T10:00:00-05:00", value: Any = 60) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "effectiveDateTime": effective,
        "issued": "2026-03-01T10:05:00.250-05:00",
        "valueQuantity": {"value": value, "unit": "psi"},
        "partOf": [{"reference": "Procedure/pr1"}],
        "extension": [
            {"url": "http://example.org/recorded", "valueDateTime": "2026-03-01T10:00:00+01:00"}
        ],
    }


def _stored(**changes: Any) -> dict[str, Any]:
    """The chart's copy of `_sent()`, as an EHR that normalises to UTC stores it."""
    return {
        **_sent(),
        "effectiveDateTime": "2026-03-01T15:00:00Z",
        "issued": "2026-03-01T15:05:00.25Z",
        "extension": [
            {"url": "http://example.org/recorded", "valueDateTime": "2026-03-01T09:00:00.000Z"}
        ],
        "meta": {"versionId": "2", "lastUpdated": "2026-03-01T15:00:01Z"},
        **changes,
    }


def _both_agree(server: dict[str, Any], sent: dict[str, Any]) -> bool:
    return content_matches(server, sent) and unchanged_since_written(server, sent)


def _neither_agrees(server: dict[str, Any], sent: dict[str, Any]) -> bool:
    return not content_matches(server, sent) and not unchanged_since_written(server, sent)


def test_a_copy_stored_in_utc_is_what_we_sent() -> None:
    assert _both_agree(_stored(), _sent())


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-03-01T10:00:00-05:00", "2026-03-01T15:00:00Z"),
        ("2026-03-01T23:30:00-05:00", "2026-03-02T04:30:00Z"),  # the UTC day is the next
        ("2026-03-01T10:00:00+14:00", "2026-02-28T20:00:00Z"),
        ("2026-03-01T15:00:00Z", "2026-03-01T15:00:00.000Z"),  # fractional seconds added
        ("2026-03-01T15:00:00.000Z", "2026-03-01T15:00:00Z"),  # ... or trimmed
        ("2026-03-01T10:00:00.5+01:00", "2026-03-01T09:00:00.500Z"),
        ("2026-03-01T15:00:00Z", "2026-03-01T15:00:00+00:00"),
        ("2026-03-01T15:00:00.1234567Z", "2026-03-01T15:00:00.12345670Z"),
    ],
)
def test_the_same_instant_in_another_form_is_not_a_change(sent: str, stored: str) -> None:
    assert _both_agree(_stored(effectiveDateTime=stored), _sent(effective=sent))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-03-01T10:00:00-05:00", "2026-03-01T10:00:00Z"),  # another instant
        ("2026-03-01T15:00:00Z", "2026-03-01T15:00:01Z"),
        ("2026-03-01T15:00:00Z", "2026-03-01T15:00:00.001Z"),
        ("2026-03-01T15:00:00Z", "2026-03-01T15:00:00.0000001Z"),  # below a microsecond
        ("2026-03-01", "2026-03-02T01:00:00Z"),  # a date, then a dateTime of another day
        ("2026-03-01", "2026-03-01T00:00:00Z"),  # dates compare as strings
        ("2026-03", "2026-03-01"),  # partial dates too
        ("2026", "2026-01"),
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00Z"),  # no zone: invalid, as a string
        ("2026-02-30T10:00:00Z", "2026-03-02T10:00:00Z"),  # not a date: as a string
        ("2026-12-31T23:59:60Z", "2027-01-01T00:00:00Z"),  # a leap second: as a string
    ],
)
def test_a_different_moment_or_date_is_a_change(sent: str, stored: str) -> None:
    assert _neither_agrees(_stored(effectiveDateTime=stored), _sent(effective=sent))


def test_the_same_string_is_the_same_whatever_it_holds() -> None:
    for text in ("2026", "2026-03-01T10:00:00", "2026-12-31T23:59:60Z"):
        assert _both_agree(_stored(effectiveDateTime=text), _sent(effective=text))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("1.0", "1"),
        ("1", "1.0"),
        ("1.50", "1.5"),
        ("1.5", "1.50"),
        ("60", "6.0e1"),
        ("1.10", "1.1"),  # a Decimal 1.1 is not the float nearest 1.1: compared as written
        ("0.3", "0.30"),
    ],
)
def test_a_decimal_in_another_lexical_form_is_not_a_change(sent: str, stored: str) -> None:
    # Parsed as the FHIR client parses JSON (floats), and as Decimals, on either side.
    for parse_sent, parse_stored in [
        (_as_floats, _as_floats),
        (_as_decimals, _as_floats),
        (_as_floats, _as_decimals),
    ]:
        server = {**_sent(), "valueQuantity": {"value": parse_stored(stored), "unit": "psi"}}
        assert _both_agree(server, _sent(value=parse_sent(sent)))


def _as_floats(number: str) -> Any:
    return orjson.loads(number)


def _as_decimals(number: str) -> Any:
    return json.loads(number, parse_float=Decimal)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(1.5, 1.51), (60, 60.5), (Decimal("1.1"), 1.2), (1, True), (1, "1"), (0, None)],
)
def test_another_number_or_type_is_a_change(sent: Any, stored: Any) -> None:
    server = _stored(valueQuantity={"value": stored, "unit": "psi"})
    assert _neither_agrees(server, _sent(value=sent))


def test_a_boolean_is_not_a_number() -> None:
    sent = {**_sent(), "valueBoolean": True}
    assert _neither_agrees({**_sent(), "valueBoolean": 1}, sent)
    assert _both_agree({**_sent(), "valueBoolean": True}, sent)


def test_the_order_of_keys_does_not_matter() -> None:
    # Python's dict equality already ignores order; this pins it for the FHIR comparison.
    reordered = dict(reversed(list(_stored().items())))
    reordered["valueQuantity"] = {"unit": "psi", "value": 60}
    assert _both_agree(reordered, _sent())


@pytest.mark.parametrize(
    "change",
    [
        {"status": "amended"},
        {"partOf": [{"reference": "Procedure/pr2"}]},
        {"partOf": []},
        {"valueQuantity": {"value": 60, "unit": "mmHg"}},
        {"extension": []},
        {
            "extension": [
                {"url": "http://example.org/recorded", "valueDateTime": "2026-03-01T10:00:00Z"}
            ]
        },
    ],
)
def test_an_edit_beside_normalised_values_is_still_a_change(change: dict[str, Any]) -> None:
    assert _neither_agrees(_stored(**change), _sent())


def test_an_element_added_in_the_chart_is_a_change_to_an_unversioned_update() -> None:
    for added in (
        {"note": [{"text": "Discussed with the patient"}]},
        {"extension": [*_stored()["extension"], {"url": "http://ehr.example/addendum"}]},
        {"valueQuantity": {"value": 60, "unit": "psi", "comparator": ">="}},
    ):
        server = _stored(**added)
        # A server may add elements to what it stores; a whole-resource PUT would drop them.
        assert not unchanged_since_written(server, _sent())
    assert content_matches(_stored(note=[{"text": "x"}]), _sent())


def test_an_element_removed_in_the_chart_is_a_change() -> None:
    server = {k: v for k, v in _stored().items() if k != "partOf"}
    assert _neither_agrees(server, _sent())
