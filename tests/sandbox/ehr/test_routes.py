"""The EHR page: patient list, one-click launch into an iframe, reset, CSRF, style."""

import re
from urllib.parse import parse_qs, urlsplit

from tests.sandbox.conftest import BASE, FHIR, Sandbox, SandboxFactory


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match[1]


async def test_the_page_lists_every_synthetic_patient(sandbox: Sandbox) -> None:
    response = await sandbox.http.get("/ehr")
    assert response.status_code == 200
    assert "frame-ancestors 'self';" in response.headers["content-security-policy"]
    assert response.headers["set-cookie"].startswith("sandbox_csrf=")
    for name in ("Testpatient, Lumbar-Candidate", "Testpatient, Prior-Fusion-L4-L5"):
        assert name in response.text
    assert response.text.count('name="patient" value=') == 9
    assert "Too little conservative care" in response.text
    assert (
        f'href="http://127.0.0.1:9000/launch?iss={FHIR.replace(":", "%3A").replace("/", "%2F")}"'
        in response.text
    )


async def test_one_click_launches_the_app_in_an_iframe(sandbox: Sandbox) -> None:
    page = await sandbox.http.get("/ehr")
    launched = await sandbox.http.post(
        "/ehr/launch",
        data={
            "csrf_token": csrf(page.text),
            "patient": "pregnant",
            "user": "referring-physiatrist",
        },
    )
    assert launched.status_code == 303
    chart = await sandbox.http.get(launched.headers["location"])
    assert chart.status_code == 200
    assert "Testpatient, Pregnant" in chart.text
    iframe = re.search(r'<iframe[^>]*src="([^"]+)"[^>]*sandbox="([^"]+)"', chart.text)
    assert iframe is not None
    assert set(iframe[2].split()) == {
        "allow-forms", "allow-modals", "allow-popups", "allow-same-origin", "allow-scripts",
        "allow-downloads",
    }  # fmt: skip
    src = iframe[1].replace("&amp;", "&")
    assert src.startswith("http://127.0.0.1:9000/launch?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()}
    assert query["iss"] == FHIR
    launch = sandbox.ehr.records.launch(query["launch"])
    assert launch is not None
    assert (launch.patient, launch.user, launch.client_id) == (
        "pregnant", "referring-physiatrist", "public-app",
    )  # fmt: skip
    assert launch.encounter == "pregnant-enc-02"
    assert "frame-src http://127.0.0.1:9000" in chart.headers["content-security-policy"]


async def test_forms_without_the_csrf_token_are_refused(sandbox: Sandbox) -> None:
    await sandbox.http.get("/ehr")  # sets the cookie
    launch = await sandbox.http.post(
        "/ehr/launch", data={"csrf_token": "x" * 43, "patient": "pregnant", "user": "radiologist"}
    )
    assert launch.status_code == 403
    reset = await sandbox.http.post("/ehr/reset", data={})
    assert reset.status_code == 403
    assert sandbox.ehr.records.launches == {}


async def test_unknown_patients_and_users_are_refused(sandbox: Sandbox) -> None:
    token = csrf((await sandbox.http.get("/ehr")).text)
    bad_patient = await sandbox.http.post(
        "/ehr/launch", data={"csrf_token": token, "patient": "nobody", "user": "radiologist"}
    )
    bad_user = await sandbox.http.post(
        "/ehr/launch", data={"csrf_token": token, "patient": "pregnant", "user": "nobody"}
    )
    assert bad_patient.status_code == bad_user.status_code == 400
    expired = await sandbox.http.get("/ehr/launches/not-a-launch")
    assert expired.status_code == 404


async def test_reset_reloads_the_synthetic_charts(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/*.cruds")
    created = await sandbox.http.post(
        "/fhir/Observation",
        json={"resourceType": "Observation", "status": "final", "code": {"text": "x"},
              "subject": {"reference": "Patient/lumbar-candidate"}},
        headers=auth,
    )  # fmt: skip
    url = f"/fhir/Observation/{created.json()['id']}"
    assert (await sandbox.http.get(url, headers=auth)).status_code == 200
    token = csrf((await sandbox.http.get("/ehr")).text)
    reset = await sandbox.http.post("/ehr/reset", data={"csrf_token": token})
    assert reset.status_code == 303
    assert (await sandbox.http.get(url, headers=auth)).status_code == 404
    assert (
        await sandbox.http.get("/fhir/Patient/lumbar-candidate", headers=auth)
    ).status_code == 200


async def test_without_a_launchable_app_the_page_says_so(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(clients=[])
    page = await sandbox.http.get("/ehr")
    assert "No SMART app with a launch URL" in page.text
    refused = await sandbox.http.post(
        "/ehr/launch",
        data={"csrf_token": csrf(page.text), "patient": "pregnant", "user": "radiologist"},
    )
    assert refused.status_code == 400


async def test_smart_style_and_stylesheet_are_served(sandbox: Sandbox) -> None:
    style = await sandbox.http.get("/ehr/smart-style.json")
    assert style.json()["color_background"].startswith("#")
    css = await sandbox.http.get("/ehr/static/sandbox.css")
    assert css.headers["content-type"].startswith("text/css")
    home = await sandbox.http.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/ehr"
    assert BASE.startswith("http://127.0.0.1")
