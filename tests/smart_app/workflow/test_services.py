"""The workflow's shared parts, as `create_app` builds them from the settings."""

import json
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from plugin.candidacy.policy_file import default_policy, policy_path
from smart_app.settings import Settings


def site_policy_file(tmp_path: Path) -> Path:
    """The shipped policy with a site's own version and a changed threshold."""
    policy = json.loads(policy_path().read_text(encoding="utf-8"))
    policy["version"] = "1.1.0-site"
    policy["end_unknown_recent_days"] = 60
    path = tmp_path / "site-policy.json"
    path.write_text(json.dumps(policy), encoding="utf-8")
    return path


async def test_the_app_assesses_with_the_sites_candidacy_policy(
    make_app: Callable[..., FastAPI], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    app = make_app(make_settings(candidacy_policy_file=site_policy_file(tmp_path)))
    policy = app.state.workflow.policy
    assert (policy.id, policy.version) == ("discography-referral", "1.1.0-site")
    assert policy.end_unknown_recent_days == 60


async def test_without_a_site_policy_the_app_uses_the_shipped_one(
    make_app: Callable[..., FastAPI],
) -> None:
    assert make_app().state.workflow.policy == default_policy()
