from __future__ import annotations

import dataclasses
import gc
import json
import re
from typing import Any

import httpx
import pytest

from plugin.candidacy import default_policy
from plugin.candidacy.lookback import words_only_since
from plugin.cds_hooks.candidacy_service import CandidacyService
from plugin.cds_hooks.discovery import service_by_id
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.extension import CANDIDACY_EXTENSION_URL
from plugin.cds_hooks.invariants import response_problems
from smart_app.clock import site_day
from tests.cds_hooks.charts import sandbox_chart
from tests.cds_hooks.conftest import (
    FHIR_SERVER,
    PATIENT_ID,
    SELECT,
    SIGN,
    Clock,
    discography_order,
    hook_call,
    other_order,
)
from tests.cds_hooks.fake_fhir import FakeFhirServer


def service(clock: Clock) -> CandidacyService:
    return CandidacyService(
        policy=default_policy(),
        launch_url="https://app.example.org/launch",
        http=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(599))),
        clock=clock,
        new_uuid=iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1000)).__next__,
    )


def prefetch(clock: Clock) -> dict[str, Any]:
    chart = sandbox_chart("pregnant", site_day(clock), as_patient=PATIENT_ID)
    cds = service(clock)
    return FakeFhirServer(FHIR_SERVER, chart).prefetch(cds.queries, PATIENT_ID)


async def test_one_card_per_discography_order_and_none_for_others(clock: Clock) -> None:
    drafts = [discography_order("a"), other_order(), discography_order("b", levels=("L3-L4",))]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=drafts, prefetch=prefetch(clock)))
    assert response_problems(body) == []
    assert [c["indicator"] for c in body["cards"]] == ["critical", "critical"]
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["a", "b"]
    assert "(ServiceRequest/b)" in body["cards"][1]["detail"]  # says which order it is about


async def test_the_injection_and_imaging_orders_of_one_study_share_a_card(clock: Clock) -> None:
    # One lumbar discography is often ordered as two drafts: the injection (CPT 62290) and the
    # supervision and interpretation (CPT 72295). One card, naming both; one update for each.
    drafts = [discography_order("inject"), discography_order("image", cpt="72295")]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=drafts, prefetch=prefetch(clock)))
    assert response_problems(body) == []
    (card,) = body["cards"]
    assert "(ServiceRequest/inject, ServiceRequest/image)" in card["detail"]
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["inject", "image"]
    assert (
        body["systemActions"][0]["resource"]["extension"]
        == (body["systemActions"][1]["resource"]["extension"])
    )


async def test_drafts_with_other_levels_get_cards_of_their_own(clock: Clock) -> None:
    drafts = [
        discography_order("a"),
        discography_order("b", levels=("L3-L4",)),
        discography_order("d", cpt="72295"),
    ]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=drafts, prefetch=prefetch(clock)))
    assert response_problems(body) == []
    named = [re.findall(r"ServiceRequest/(\w)", card["detail"]) for card in body["cards"]]
    assert named == [["a", "d"], ["b"]]
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["a", "b", "d"]


async def test_attestations_on_one_draft_of_a_study_count_for_the_whole_study(
    clock: Clock,
) -> None:
    # The physician attests about the study, not about one of its two CPT codes: the
    # injection draft alone carrying the attestations must not give the study two cards that
    # contradict each other, nor two different records on its drafts.
    policy = default_policy()
    attestations = [a.id for a in policy.attestations]
    attested = [
        {
            "url": CANDIDACY_EXTENSION_URL,
            "extension": [{"url": "attestation", "valueCode": a} for a in attestations],
        }
    ]
    drafts = [
        discography_order("inject", extension=attested),
        discography_order("image", cpt="72295"),
    ]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=drafts, prefetch=prefetch(clock)))
    assert response_problems(body) == []
    (card,) = body["cards"]
    assert "(ServiceRequest/inject, ServiceRequest/image)" in card["detail"]
    inject, image = (a["resource"]["extension"] for a in body["systemActions"])
    assert inject == image
    recorded = [p["valueCode"] for p in inject[-1]["extension"] if p["url"] == "attestation"]
    assert recorded == sorted(attestations)


async def test_order_select_answers_for_the_selected_order_only(clock: Clock) -> None:
    select = service_by_id(SELECT)
    assert select is not None
    drafts = [discography_order("a"), discography_order("b")]
    body = await service(clock).answer(
        select,
        hook_call(
            "order-select", drafts, prefetch=prefetch(clock), selections=["ServiceRequest/b"]
        ),
    )
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["b"]


async def test_uuids_come_from_the_injected_source(clock: Clock) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(prefetch=prefetch(clock)))
    assert body["cards"][0]["uuid"] == "00000000-0000-4000-8000-000000000000"


# -- the router's way in: the raw body, decoded and assessed with the collector paused ------


def _sandbox_prefetch(clock: Clock, patient: str) -> dict[str, Any]:
    chart = sandbox_chart(patient, site_day(clock), as_patient=PATIENT_ID)
    return FakeFhirServer(FHIR_SERVER, chart).prefetch(service(clock).queries, PATIENT_ID)


async def test_the_raw_body_is_answered_as_its_decoded_json(clock: Clock) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    for patient in ("lumbar-candidate", "pregnant", "on-apixaban"):
        call = hook_call(prefetch=_sandbox_prefetch(clock, patient))
        decoded = await service(clock).answer(sign, call)
        raw = await service(clock).answer(sign, json.dumps(call).encode())
        assert raw == decoded, patient


async def test_a_raw_body_needing_the_fhir_server_is_fetched_then_assessed(clock: Clock) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    chart = sandbox_chart("pregnant", site_day(clock), as_patient=PATIENT_ID)
    fake = FakeFhirServer(FHIR_SERVER, chart, page_size=5)
    prefetch = fake.prefetch(service(clock).queries, PATIENT_ID)
    partial = {k: v for k, v in prefetch.items() if k not in ("labResults", "conditions")}
    fetching = dataclasses.replace(
        service(clock), http=httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    )
    raw = json.dumps(hook_call(prefetch=partial, fhir=True)).encode()
    answered = await fetching.answer(sign, raw)
    assert answered == await service(clock).answer(sign, hook_call(prefetch=prefetch))
    assert {r.url.path.rsplit("/", 1)[-1] for r in fake.requests} == {"Observation", "Condition"}


async def test_the_collector_runs_again_after_a_call(clock: Clock) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    assert gc.isenabled()
    await service(clock).answer(sign, json.dumps(hook_call(prefetch=prefetch(clock))).encode())
    assert gc.isenabled()
    with pytest.raises(CdsRequestInvalidError):
        await service(clock).answer(sign, b"{")
    assert gc.isenabled()


async def test_another_patients_chart_with_a_null_patient_is_400_not_assessed(
    clock: Clock,
) -> None:
    # Review repro: a pregnant patient's chart, "patient": null, sent for pt-1's order.
    sign = service_by_id(SIGN)
    assert sign is not None
    chart = sandbox_chart("pregnant", site_day(clock))
    other = FakeFhirServer(FHIR_SERVER, chart).prefetch(service(clock).queries, "pregnant")
    other["patient"] = None
    with pytest.raises(CdsRequestInvalidError) as caught:
        await service(clock).answer(sign, json.dumps(hook_call(prefetch=other)).encode())
    assert {p.rule for p in caught.value.problems} == {"same-patient"}
    assert all(p.field.startswith("prefetch.") for p in caught.value.problems)


async def test_a_wrong_patient_id_is_one_issue_not_one_per_record(clock: Clock) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    wrong = prefetch(clock)
    wrong["patient"] = {**wrong["patient"], "id": "someone-else"}
    with pytest.raises(CdsRequestInvalidError) as caught:
        await service(clock).answer(sign, hook_call(prefetch=wrong))
    assert [p.field for p in caught.value.problems] == ["prefetch.patient.id"]


async def test_an_unreadable_record_is_named_by_reference_not_by_a_merged_index(
    clock: Clock,
) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    body = prefetch(clock)
    entries = body["procedures"]["entry"]
    entries[-1]["resource"]["status"] = 5
    named = f"Procedure/{entries[-1]['resource']['id']}: status"
    with pytest.raises(CdsRequestInvalidError) as caught:
        await service(clock).answer(sign, hook_call(prefetch=body))
    [problem] = caught.value.problems
    assert problem.field == "prefetch"
    assert problem.message.startswith(named)
    assert "[" not in problem.message.split(":")[0]  # no index into our own merged list


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": "Patient/pt-2"},
        {"reference": "Group/g1"},
        {"identifier": {"value": "MRN2"}},
    ],
    ids=["another-patient", "group", "identifier-only"],
)
async def test_a_draft_not_for_this_patient_gets_a_card_saying_so_and_no_update(
    clock: Clock, subject: dict[str, Any]
) -> None:
    foreign = {**discography_order("theirs", levels=("L3-L4",)), "subject": subject}
    drafts = [discography_order("mine"), foreign]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=drafts, prefetch=prefetch(clock)))
    assert response_problems(body) == []
    theirs = [c for c in body["cards"] if "ServiceRequest/theirs" in c["detail"]]
    assert len(theirs) == 1 and theirs[0]["summary"].startswith(
        "Discography order cannot be assessed"
    )
    assert "links" not in theirs[0]  # the app would open on this patient, not theirs
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["mine"]


async def test_a_draft_without_subject_is_assessed_but_not_written_back(clock: Clock) -> None:
    # ServiceRequest.subject is 1..1: an update of it as sent would be an invalid resource.
    draft = discography_order("no-subject")
    del draft["subject"]
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(sign, hook_call(drafts=[draft], prefetch=prefetch(clock)))
    (card,) = body["cards"]
    assert card["indicator"] == "critical"  # assessed on this patient's chart
    assert "systemActions" not in body


@pytest.mark.parametrize("rid", ["a b/c", "x" * 65, "../Patient"])
async def test_an_id_that_is_no_fhir_id_is_never_echoed(clock: Clock, rid: str) -> None:
    sign = service_by_id(SIGN)
    assert sign is not None
    body = await service(clock).answer(
        sign, hook_call(drafts=[discography_order(rid)], prefetch=prefetch(clock))
    )
    assert "systemActions" not in body
    (card,) = body["cards"]
    assert "draftOrder" not in json.loads(card["links"][0]["appContext"])
    assert rid not in json.dumps(body)


async def test_a_missing_lab_is_said_to_be_missing_from_what_the_service_read(
    clock: Clock,
) -> None:
    # The services read dated Observations from the policy's horizon on: a card must not say
    # a result is absent from the chart when an older one may be on the server.
    today = site_day(clock)
    chart = [
        r
        for r in sandbox_chart("lumbar-candidate", today, as_patient=PATIENT_ID)
        if r["resourceType"] != "Observation"
    ]
    cds = service(clock)
    body = await cds.answer(
        service_by_id(SIGN),  # type: ignore[arg-type]
        hook_call(prefetch=FakeFhirServer(FHIR_SERVER, chart).prefetch(cds.queries, PATIENT_ID)),
    )
    horizon = words_only_since(default_policy(), today)
    assert horizon is not None
    detail = body["cards"][0]["detail"]
    assert f"result dated from {horizon.isoformat()} on was read (older ones cannot count)" in (
        detail
    )
    assert "result is in the chart" not in detail
