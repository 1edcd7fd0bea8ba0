"""Results entry: validated as typed with the core's messages (each naming its field), invalid
values kept, the interpretation updating, every change saved — by script (JSON) or by a plain
post — and nothing lost to a reload or a new launch."""

import re

import httpx

from tests.smart_app.workflow.conftest import (
    RESULTS,
    Browser,
    Sandbox,
    input_value,
    level_fields,
    page_text,
    set_up_three_levels,
    start_study,
)


async def results_page(sandbox: Sandbox) -> Browser:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    return browser


async def save(
    browser: Browser, results: dict[str, dict[str, str]], **extra: str
) -> httpx.Response:
    response = await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, results, action="save", **extra)
    )
    return await browser.follow(response)


async def test_the_results_page_lists_each_disc_in_injection_order_with_labelled_inputs(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    page = browser.page
    assert page is not None
    draft = await browser.draft()
    by_order = sorted(draft.study["levels"], key=lambda lv: lv["order"])
    legends = re.findall(r"<legend>Injection (\d) · ([A-Z0-9-]+)", page.text)
    assert legends == [(str(lv["order"]), lv["level"]) for lv in by_order]
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page.text)
    labelled = set(re.findall(r'<label for="([^"]+)"', page.text))
    assert ids and set(ids) <= labelled  # every visible input has its label
    assert 'id="lv-L4-L5-opening_pressure_psi" name="lv-L4-L5-opening_pressure_psi"' in page.text
    assert re.search(r'id="lv-L4-L5-opening_pressure_psi"[^>]*inputmode="decimal"', page.text)
    assert 'aria-live="polite" data-interpretation' in page.text
    assert "There is a problem" not in page_text(page)  # nothing typed yet: no error


async def test_messages_name_the_field_and_invalid_values_are_kept(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    page = await save(
        browser,
        {"L4-L5": {"opening_pressure_psi": "1O", "pain_intensity": "12", "total_volume_ml": "1,5"}},
    )
    text = page_text(page)
    assert "L4-L5 · Opening pressure: Must be a number (got '1O')" in text
    assert "L4-L5 · Pain intensity: Must be at most 10 (got 12)" in text
    assert 'href="#lv-L4-L5-pain_intensity"' in page.text
    assert input_value(page, "lv-L4-L5-opening_pressure_psi") == "1O"  # kept as typed
    assert input_value(page, "lv-L4-L5-total_volume_ml") == "1.5"  # decimal comma read
    assert re.search(r'id="lv-L4-L5-pain_intensity"[^>]*aria-invalid="true"', page.text)
    draft = await browser.draft()
    l4 = next(lv for lv in draft.study["levels"] if lv["level"] == "L4-L5")
    assert l4["opening_pressure_psi"] == "1O" and l4["total_volume_ml"] == 1.5
    # A reload (a new request on the same session) shows the same values and messages.
    again = await browser.get(f"{browser.study_url}/levels")
    assert input_value(again, "lv-L4-L5-opening_pressure_psi") == "1O"
    assert "Must be a number (got '1O')" in page_text(again)


async def test_the_interpretation_is_provisional_until_every_disc_is_in(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    page = await save(browser, {"L4-L5": RESULTS["L4-L5"]})
    panel = page_text(page).split("Interpretation so far", 1)[1]
    assert "Provisional:" in panel
    assert "Not yet included: L3-L4, L5-S1" in panel
    assert "L4-L5 suspected — indeterminate" in panel  # no control recorded yet
    page = await save(browser, RESULTS)
    text = page_text(page)
    assert "Interpretation so far" not in text
    assert "Discogenic level identified: L4-L5 (definite)" in text


async def test_autosave_answers_with_messages_and_the_new_panel(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    fields = level_fields(browser, {"L4-L5": {**RESULTS["L4-L5"], "peak_pressure_psi": "5"}})
    before = int(fields["revision"])
    response = await browser.http.post(
        f"{browser.study_url}/levels/autosave",
        data={k: v for k, v in fields.items() if k != "csrf_token"},
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["revision"] == before + 1
    assert answer["messages"]["lv-L4-L5-peak_pressure_psi"].startswith(
        "Peak pressure (5 psi) cannot be below the opening pressure (10 psi)"
    )
    assert "L4-L5" in answer["panel"] and "All changes saved" in answer["saved"]
    # An older revision is refused, and nothing is overwritten.
    stale = await browser.http.post(
        f"{browser.study_url}/levels/autosave",
        data={
            **{k: v for k, v in fields.items() if k != "csrf_token"},
            "lv-L4-L5-pain_intensity": "2",
        },
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert stale.status_code == 409 and stale.json()["revision"] == before + 1
    draft = await browser.draft()
    assert next(lv for lv in draft.study["levels"] if lv["level"] == "L4-L5")["pain_intensity"] == 8


async def test_a_stale_plain_post_shows_the_typed_values_without_saving(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    stale_fields = level_fields(browser, {"L5-S1": {"pain_location": "left buttock"}})
    await save(browser, {"L5-S1": {"pain_location": "right buttock"}})
    response = await browser.post(f"{browser.study_url}/levels", {**stale_fields, "action": "save"})
    assert response.status_code == 409
    assert "changed in another window" in page_text(response)
    assert input_value(response, "lv-L5-S1-pain_location") == "left buttock"
    current = input_value(response, "revision")
    assert int(current) == (await browser.draft()).revision  # saving again replaces knowingly
    draft = await browser.draft()
    assert (
        next(lv for lv in draft.study["levels"] if lv["level"] == "L5-S1")["pain_location"]
        == "right buttock"
    )


async def test_the_draft_resumes_after_a_new_launch(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    await save(browser, {"L4-L5": {"opening_pressure_psi": "11"}})
    draft_id = browser.draft_id()
    later = await sandbox.launch()  # a new window, a new session: same user and patient
    assert later.http.cookies != browser.http.cookies
    assert f"/app/studies/{draft_id}/levels" in later.page.text  # type: ignore[union-attr]
    page = await later.get(f"/app/studies/{draft_id}/levels")
    assert input_value(page, "lv-L4-L5-opening_pressure_psi") == "11"


async def test_another_patients_session_cannot_open_the_study(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    other = await sandbox.launch("on-apixaban")
    response = await other.get(other.address(f"{browser.study_url}/levels"))
    assert response.status_code == 404
    response = await other.get("/app/studies/not-a-draft-id/levels")
    assert response.status_code == 404


async def test_a_study_too_large_to_store_is_refused_with_the_rule_not_a_crash(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    # Each field under the form parser's 1 MiB bound; together over what the draft stores.
    huge = {"L4-L5": {"comment": "x" * 600_000}, "L5-S1": {"comment": "y" * 600_000}}
    response = await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, huge, action="save")
    )
    assert response.status_code == 422
    assert "The study was not saved: study: is larger than 1,000,000 characters" in page_text(
        response
    )
    fields = level_fields(browser, huge)
    answer = await browser.http.post(
        f"{browser.study_url}/levels/autosave",
        data={k: v for k, v in fields.items() if k != "csrf_token"},
        headers={"X-CSRF-Token": fields["csrf_token"]},
    )
    assert answer.status_code == 422 and "larger than" in answer.json()["error"]


# -- the page as an editor: its saves in any order ------------------------------------------


def page_editor(page: httpx.Response) -> tuple[str, str]:
    """The page's editor token and its count of saves, as rendered."""
    return input_value(page, "editor"), input_value(page, "sequence")


async def autosave(browser: Browser, fields: dict[str, str], **changes: str) -> httpx.Response:
    return await browser.http.post(
        f"{browser.study_url}/levels/autosave",
        data={k: v for k, v in {**fields, **changes}.items() if k != "csrf_token"},
        headers={"X-CSRF-Token": browser.csrf},
    )


def typed(browser: Browser, location: str, sequence: int) -> dict[str, str]:
    """The page's form with L4-L5's pain location typed, as its script sends save `sequence`."""
    assert browser.page is not None
    fields = level_fields(browser, {"L4-L5": {"pain_location": location}})
    fields["editor"] = input_value(browser.page, "editor")
    fields["sequence"] = str(sequence)
    return fields


async def stored_location(browser: Browser) -> str:
    draft = await browser.draft()
    level = next(lv for lv in draft.study["levels"] if lv["level"] == "L4-L5")
    return str(level["pain_location"])


async def test_each_render_of_the_page_is_an_editor_of_its_own(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    first = page_editor(browser.page)  # type: ignore[arg-type]
    second = page_editor(await browser.get(f"{browser.study_url}/levels"))
    assert first[1] == second[1] == "0"  # no save counted yet
    assert first[0] != second[0]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,64}", token) for token in (first[0], second[0]))
    assert 'name="sequence" value="0" data-sequence' in browser.page.text  # type: ignore[union-attr]


async def test_leaving_after_the_save_in_flight_landed_keeps_the_later_typing(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    revision = int(input_value(browser.page, "revision"))  # type: ignore[arg-type]
    in_flight = await autosave(browser, typed(browser, "Central", 1))
    assert in_flight.status_code == 200 and in_flight.json()["revision"] == revision + 1
    # Sent on leaving, from the same page: it had not heard back, so names the old revision.
    flushed = await autosave(browser, typed(browser, "Central low back", 2))
    assert flushed.status_code == 200 and flushed.json()["revision"] == revision + 2
    assert await stored_location(browser) == "Central low back"


async def test_leaving_before_the_save_in_flight_landed_keeps_the_later_typing(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    revision = int(input_value(browser.page, "revision"))  # type: ignore[arg-type]
    flushed = await autosave(browser, typed(browser, "Central low back", 2))
    assert flushed.status_code == 200 and flushed.json()["revision"] == revision + 1
    late = await autosave(browser, typed(browser, "Central", 1))
    # Not an error: nothing written, the stored draft answered.
    assert late.status_code == 200 and late.json()["revision"] == revision + 1
    assert await stored_location(browser) == "Central low back"
    assert (await browser.draft()).revision == revision + 1


async def test_another_windows_page_is_still_told_of_the_conflict(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    mine = typed(browser, "Central", 1)
    other = await sandbox.launch()  # another window: same user, same patient
    other.study_url = other.address(browser.study_url)  # type: ignore[arg-type]
    await other.get(f"{other.study_url}/levels")
    theirs = typed(other, "Left buttock", 5)
    assert theirs["editor"] != mine["editor"]
    assert (await autosave(other, theirs)).status_code == 200
    refused = await autosave(browser, mine)
    assert refused.status_code == 409 and "another window" in refused.json()["conflict"]
    assert await stored_location(browser) == "Left buttock"


async def test_a_plain_post_of_the_page_carries_its_editor(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    form = typed(browser, "Central", 1)
    assert (await autosave(browser, form)).status_code == 200
    # The script counted the post as its next save: the stale revision is the page's own.
    posted = await browser.post(
        f"{browser.study_url}/levels",
        {**typed(browser, "Central low back", 2), "action": "save"},
    )
    assert posted.status_code == 303
    assert await stored_location(browser) == "Central low back"


async def test_a_page_without_its_script_is_refused_a_stale_post_as_before(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    # Posted without the script, the page's sequence stays 0 (no save counted).
    first = await browser.post(
        f"{browser.study_url}/levels", {**typed(browser, "Left", 0), "action": "save"}
    )
    assert first.status_code == 303
    # The same render's form, changed and sent again from the browser's history: refused as
    # stale as before, its values shown — not taken for an older save and dropped.
    response = await browser.post(
        f"{browser.study_url}/levels", {**typed(browser, "Central", 0), "action": "save"}
    )
    assert response.status_code == 409
    assert input_value(response, "lv-L4-L5-pain_location") == "Central"
    assert await stored_location(browser) == "Left"


async def test_bad_editor_or_sequence_values_are_taken_as_absent(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    editor = input_value(browser.page, "editor")  # type: ignore[arg-type]
    bad = [
        {"editor": editor, "sequence": "²"},  # a digit, but not an ASCII one
        {"editor": editor, "sequence": "-3"},
        {"editor": editor, "sequence": "1e3"},
        {"editor": editor, "sequence": "1234567890"},  # ten digits
        {"editor": editor, "sequence": ""},
        {"editor": editor + "x" * 64, "sequence": "9"},  # longer than 64
        {"editor": "a b", "sequence": "9"},
        {"editor": "<script>", "sequence": "9"},
        {"editor": "", "sequence": "9"},
    ]
    for number, values in enumerate(bad, start=2):
        # The page's own save first (recorded with its editor), then the same page's later
        # state with a bad value: as from no page, refused as stale — never a server error.
        before = str((await browser.draft()).revision)
        ours = await autosave(browser, typed(browser, f"Central {number}", number), revision=before)
        assert ours.status_code == 200
        stale = {**typed(browser, "Overwritten", number + 1), "revision": before}
        response = await autosave(browser, stale, **values)
        assert response.status_code == 409, values
        assert await stored_location(browser) == f"Central {number}"
        # From the current revision it saves, as from no page (no editor recorded).
        current = (await browser.draft()).revision
        saved = await autosave(browser, stale, revision=str(current), **values)
        assert saved.status_code == 200, values
        draft = await browser.draft()
        assert draft.revision == current + 1 and draft.editor is None, values


async def test_a_procedure_date_in_the_future_is_refused_and_kept_as_typed(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    page = await save(
        browser,
        RESULTS,
        **{"performed-local": "2031-01-01T10:00", "performed-offset": "+01:00"},
    )
    text = page_text(page)
    assert "Date and time of the procedure: Cannot be later than now" in text
    assert 'href="#performed-local"' in page.text
    assert input_value(page, "performed-local") == "2031-01-01T10:00:00"  # kept
    assert re.search(r'id="performed-local"[^>]*aria-invalid="true"', page.text)
    # The preview names the problem and offers no signing.
    preview = await browser.get(f"{browser.study_url}/preview")
    assert "Cannot be later than now" in page_text(preview)
    assert re.search(r"<button type=\"submit\" disabled", preview.text)


async def test_a_procedure_date_before_1950_is_refused(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    page = await save(browser, RESULTS, **{"performed-local": "1900-01-01T10:00"})
    assert "Date and time of the procedure: Must be on or after 1950-01-01" in page_text(page)
    assert input_value(page, "performed-local") == "1900-01-01T10:00:00"


async def test_odd_numbers_are_refused_and_shown_back_exactly_as_typed(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    typed = {"opening_pressure_psi": "1_8", "peak_pressure_psi": "1e308", "pain_intensity": "1e1"}
    page = await save(browser, {"L4-L5": typed})
    text = page_text(page)
    assert "L4-L5 · Opening pressure: Must be a number (got '1_8')" in text
    assert "L4-L5 · Peak pressure: Must be a number (got '1e308')" in text
    assert "L4-L5 · Pain intensity: Must be a whole number (got '1e1')" in text
    for field, value in typed.items():
        assert input_value(page, f"lv-L4-L5-{field}") == value


async def test_refused_numbers_are_shown_back_and_quoted_exactly_as_typed(
    sandbox: Sandbox,
) -> None:
    browser = await results_page(sandbox)
    typed = {"pain_intensity": "7.0", "peak_pressure_psi": "99999999999999999999"}
    page = await save(browser, {"L4-L5": typed})
    text = page_text(page)
    assert "L4-L5 · Pain intensity: Must be a whole number (got '7.0')" in text
    assert "L4-L5 · Peak pressure: Must be at most 500 psi (got 99999999999999999999)" in text
    for field, value in typed.items():
        assert input_value(page, f"lv-L4-L5-{field}") == value


async def test_inputs_carry_their_length_limit(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    page = browser.page
    assert page is not None
    assert re.search(r'id="lv-L4-L5-opening_pressure_psi"[^>]* maxlength="20"', page.text)
    assert re.search(r'id="lv-L4-L5-pain_location"[^>]* maxlength="2000"', page.text)
    assert re.search(r'<textarea id="lv-L4-L5-comment"[^>]* maxlength="2000"', page.text)
    assert re.search(r'<textarea id="post_discogram_ct"[^>]* maxlength="2000"', page.text)
    # A number longer than any measurement is refused, not read.
    saved = await save(browser, {"L4-L5": {"peak_pressure_psi": "1" * 25}})
    assert "L4-L5 · Peak pressure: Must be a number" in page_text(saved)
    assert input_value(saved, "lv-L4-L5-peak_pressure_psi") == "1" * 25


async def test_a_study_too_large_to_store_shows_the_form_again(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    huge = "x" * 600_000
    response = await browser.post(
        f"{browser.study_url}/levels",
        level_fields(
            browser,
            {
                "L4-L5": {"comment": huge, "pain_location": "Left buttock"},
                "L5-S1": {"comment": huge},
            },
            action="save",
        ),
    )
    assert response.status_code == 422
    assert "The study was not saved" in page_text(response)
    assert input_value(response, "lv-L4-L5-pain_location") == "Left buttock"  # kept
    assert input_value(response, "performed-local") == "2026-11-20T09:30:00"


async def test_one_field_of_megabytes_shows_the_form_again_with_the_rule(
    sandbox: Sandbox,
) -> None:
    # Above Starlette's default 1 MB per field: once a bare JSON 400 that lost every value.
    browser = await results_page(sandbox)
    response = await browser.post(
        f"{browser.study_url}/levels",
        level_fields(
            browser,
            {"L4-L5": {"comment": "x" * 1_500_000, "pain_location": "Left buttock"}},
            action="save",
        ),
    )
    assert response.status_code == 422
    assert "The study was not saved" in page_text(response)
    assert input_value(response, "lv-L4-L5-pain_location") == "Left buttock"


async def test_a_post_beyond_any_form_gets_the_error_page(sandbox: Sandbox) -> None:
    browser = await results_page(sandbox)
    response = await browser.post(
        f"{browser.study_url}/levels",
        level_fields(browser, {"L4-L5": {"comment": "x" * 5_000_000}}, action="save"),
    )
    assert response.status_code == 413
    assert "The form was too large" in page_text(response)
