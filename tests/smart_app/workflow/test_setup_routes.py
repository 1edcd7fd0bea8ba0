"""Study setup: region, discs and controls, technique; the blinded order drawn on the server,
stable until drawn again, fixed once the first injection has results."""

import re

import httpx

from plugin.candidacy import Order
from plugin.study.levels import Region
from smart_app.workflow.candidacy_citation import cite_assessment
from tests.smart_app.workflow.conftest import (
    LEVEL_NAMES,
    Browser,
    Sandbox,
    input_value,
    level_fields,
    page_text,
    set_up_three_levels,
    setup_fields,
    start_study,
)


def shown_order(page: httpx.Response) -> list[str]:
    """The order as read to the team: disc names in injection order."""
    section = page.text.split('id="order-title"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<strong>([A-Z]\d+-[A-Z]\d+)</strong>", section)


async def stored_orders(browser: Browser) -> dict[str, int]:
    draft = await browser.draft()
    return {lv["level"]: lv["order"] for lv in draft.study["levels"]}


async def test_setup_saves_discs_controls_technique_and_draws_a_permutation(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    page = await set_up_three_levels(
        browser, **{"technique-approach": "Left posterolateral", "indication-text": "Fusion?"}
    )
    assert "Results" in page_text(page)
    draft = await browser.draft()
    levels = {lv["level"]: lv for lv in draft.study["levels"]}
    assert list(levels) == list(LEVEL_NAMES)  # anatomical order in the study
    assert levels["L3-L4"]["role"] == "control" and levels["L4-L5"]["role"] == "suspected"
    assert sorted(lv["order"] for lv in levels.values()) == [1, 2, 3]
    assert draft.study["technique"] == {"approach": "Left posterolateral", "patient_blinded": True}
    assert draft.study["indication"]["text"] == "Fusion?"
    assert draft.study["indication"]["criteria_met"]  # the candidacy citation is kept


async def test_the_order_is_stable_until_drawn_again(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    first = await stored_orders(browser)
    setup = await browser.get(f"{browser.study_url}/setup")
    assert shown_order(setup) == sorted(first, key=first.__getitem__)
    # Saving the same discs again (technique changed) keeps the order.
    response = await browser.post(
        f"{browser.study_url}/setup",
        setup_fields(browser, action="save", **{"technique-sedation": "none"}),
    )
    await browser.follow(response)
    assert await stored_orders(browser) == first
    # Drawing again gives another permutation (the same one 20 times: 1 in 6^19).
    seen = {tuple(sorted(first, key=first.__getitem__))}
    for _ in range(20):
        page = await browser.get(f"{browser.study_url}/setup")
        response = await browser.post(
            f"{browser.study_url}/setup/order",
            browser.form(revision=input_value(page, "revision")),
        )
        assert response.status_code == 303
        orders = await stored_orders(browser)
        assert sorted(orders.values()) == [1, 2, 3]
        seen.add(tuple(sorted(orders, key=orders.__getitem__)))
        if len(seen) > 1:
            break
    assert len(seen) > 1


async def test_the_order_is_fixed_once_the_first_injection_has_results(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    page = await set_up_three_levels(browser)
    first_results = {"L4-L5": {"opening_pressure_psi": "10"}}
    await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, first_results, action="save")
    )
    before = await stored_orders(browser)
    page = await browser.get(f"{browser.study_url}/setup")
    assert re.search(r'<button type="submit" form="reroll-form"[^>]*disabled', page.text)
    response = await browser.post(
        f"{browser.study_url}/setup/order", browser.form(revision=input_value(page, "revision"))
    )
    assert response.status_code == 409
    assert "the order can no longer change" in page_text(response)
    assert await stored_orders(browser) == before
    # Adding a disc now keeps every number and gives the new one the next.
    page = await browser.get(f"{browser.study_url}/setup")
    response = await browser.post(
        f"{browser.study_url}/setup", setup_fields(browser, action="save", **{"inject-L2-L3": "on"})
    )
    assert response.status_code == 303
    after = await stored_orders(browser)
    assert {k: after[k] for k in before} == before and after["L2-L3"] == 4


async def test_setup_problems_name_their_input_and_keep_what_was_typed(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    fields = setup_fields(
        browser, action="continue", **{"inject-C5-C6": "on", "technique-approach": "Right"}
    )
    response = await browser.post(f"{browser.study_url}/setup", fields)
    assert response.status_code == 422
    text = page_text(response)
    assert "There is a problem" in text
    assert "C5-C6: C5-C6 is not in a lumbar study; untick it or choose another region" in text
    assert 'href="#inject-C5-C6"' in response.text
    assert 'id="inject-C5-C6" name="inject-C5-C6" value="on" checked' in response.text
    draft = await browser.draft()
    assert draft.study["levels"] == []  # no disc changed …
    assert draft.study["technique"]["approach"] == "Right"  # … but the typed text is kept
    response = await browser.post(
        f"{browser.study_url}/setup",
        browser.form(revision=str(draft.revision), **{"technique-fields": "1"}),
    )
    assert "Region: Choose the region of the study" in page_text(response)
    assert "Discs to inject: Choose at least one disc to inject" in page_text(response)


async def test_a_disc_with_results_cannot_be_left_out(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    await browser.post(
        f"{browser.study_url}/levels",
        level_fields(browser, {"L5-S1": {"pain_intensity": "3"}}, action="save"),
    )
    await browser.get(f"{browser.study_url}/setup")
    fields = setup_fields(browser, action="save")
    del fields["inject-L5-S1"]
    response = await browser.post(f"{browser.study_url}/setup", fields)
    assert response.status_code == 422
    assert "L5-S1 already has results; it cannot be left out of the study" in page_text(response)
    assert [lv["level"] for lv in (await browser.draft()).study["levels"]] == list(LEVEL_NAMES)


async def test_a_new_study_starts_from_the_order_the_candidacy_was_assessed_for(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    workflow = sandbox.hosted.state.workflow
    record = await workflow.candidacy.get(browser.draft_id())
    ordered = record.assessment.model_copy(
        update={"order": Order(region=Region.LUMBAR, levels=("L4-L5", "L5-S1"))}
    )
    await workflow.candidacy.save(
        browser.draft_id(), ordered, (), cite_assessment(ordered, workflow.policy)
    )
    page = await browser.get(f"{browser.study_url}/setup")
    assert 'id="region-lumbar" name="region" value="lumbar" checked' in page.text
    checked = set(re.findall(r'id="(inject-[^"]+)" name="[^"]+" value="on" checked', page.text))
    assert checked == {"inject-L4-L5", "inject-L5-S1"}
    assert (await browser.draft()).study["levels"] == []  # offered, not yet chosen


async def test_too_long_text_stays_on_setup_with_the_message_at_its_field(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    indication, sedation = "i" * 3000, "s" * 2500
    fields = setup_fields(
        browser,
        action="continue",
        **{"indication-text": indication, "technique-sedation": sedation},
    )
    response = await browser.post(f"{browser.study_url}/setup", fields)
    assert response.status_code == 422  # not on to the results page
    text = page_text(response)
    assert "Indication: Is too long (at most 2000 characters)" in text
    assert "Sedation: Is too long (at most 2000 characters)" in text
    assert 'href="#indication-text"' in response.text
    assert f">{indication}</textarea>" in response.text  # kept as typed
    assert input_value(response, "technique-sedation") == sedation
    assert re.search(r'<textarea id="indication-text"[^>]* maxlength="2000"', response.text)
    assert re.search(r'id="technique-sedation"[^>]* maxlength="2000"', response.text)
    # Corrected, it moves on.
    fields = setup_fields(
        browser,
        action="continue",
        revision=input_value(response, "revision"),
        **{"indication-text": "Axial pain", "technique-sedation": "none"},
    )
    response = await browser.post(f"{browser.study_url}/setup", fields)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/levels")


async def test_a_study_too_large_to_store_shows_the_form_again(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    huge = "x" * 600_000
    fields = setup_fields(
        browser,
        action="continue",
        **{"indication-text": huge, "technique-approach": huge, "technique-manometer": "Merit"},
    )
    response = await browser.post(f"{browser.study_url}/setup", fields)
    assert response.status_code == 422
    assert "The study was not saved" in page_text(response)
    assert input_value(response, "technique-manometer") == "Merit"  # the other values kept
    assert 'id="inject-L4-L5" name="inject-L4-L5" value="on" checked' in response.text
