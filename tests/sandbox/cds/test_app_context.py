"""A CDS card's smart link: its appContext rides the EHR launch into the token response
(CDS Hooks 2.0 §Link), where the app reads which draft order to open."""

from __future__ import annotations

from tests.sandbox.auth.test_flows import auto_sandbox, code_form, get_code
from tests.sandbox.conftest import SandboxFactory, pkce_pair

APP_CONTEXT = '{"draftOrder":"ServiceRequest/d-1","hookInstance":"h"}'


async def test_the_launch_hands_the_app_context_over_with_the_token(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    launch = await sandbox.ehr.launch(
        "public-app", "lumbar-candidate", "spine-proceduralist", app_context=APP_CONTEXT
    )
    plain = await sandbox.ehr.launch("public-app", "lumbar-candidate", "spine-proceduralist")
    tokens = []
    for launch_id in (launch.id, plain.id):
        verifier, challenge = pkce_pair()
        code = await get_code(
            sandbox, (verifier, challenge), launch=launch_id, scope="launch patient/*.rs"
        )
        response = await sandbox.http.post(
            "/auth/token", data=code_form(code, verifier, client_id="public-app")
        )
        assert response.status_code == 200, response.text
        tokens.append(response.json())
    assert tokens[0]["appContext"] == APP_CONTEXT
    assert "appContext" not in tokens[1]
