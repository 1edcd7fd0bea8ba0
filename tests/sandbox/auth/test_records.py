from datetime import UTC, datetime, timedelta

from plugin.sandbox.auth.records import (
    AuthorizationRecords,
    AuthorizationSubject,
    PendingAuthorization,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_launches_expire_but_may_be_reused_until_then() -> None:
    clock = Clock()
    records = AuthorizationRecords(clock=clock)
    launch = records.create_launch("app", "p1", "e1", "u1", timedelta(minutes=10))
    assert records.launch(launch.id) == launch
    assert records.launch(launch.id) == launch
    clock.now = T0 + timedelta(minutes=10)
    assert records.launch(launch.id) is None
    assert records.launch("unknown") is None


def test_assertion_ids_are_remembered_until_they_expire() -> None:
    clock = Clock()
    records = AuthorizationRecords(clock=clock)
    expires = T0 + timedelta(minutes=2)
    assert records.first_use_of_assertion("app", "j1", expires)
    assert not records.first_use_of_assertion("app", "j1", expires)
    assert records.first_use_of_assertion("other-app", "j1", expires)  # per client
    clock.now = T0 + timedelta(minutes=6)
    assert records.first_use_of_assertion("app", "j1", clock.now + timedelta(minutes=1))


def test_revoking_a_grant_ends_its_tokens() -> None:
    records = AuthorizationRecords(clock=Clock())
    grant = records.new_grant("app", AuthorizationSubject("u1", "p1", None), "patient/*.rs")
    access = records.issue_access_token(grant, grant.scope, timedelta(hours=1))
    refresh = records.issue_refresh_token(grant, grant.scope, timedelta(days=1))
    assert records.access_token(access.token) == access
    records.revoke_grant(grant.id)
    assert records.access_token(access.token) is None
    assert records.refresh_token(refresh.token) is None
    assert records.grant(grant.id) is None


def test_pending_requests_are_answered_once() -> None:
    clock = Clock()
    records = AuthorizationRecords(clock=clock)
    pending = PendingAuthorization(
        id=records.new_pending_id(), client_id="app", params={}, scopes=[], user="u1",
        patient="p1", encounter=None, needs_patient=False, expires_at=T0 + timedelta(minutes=5),
    )  # fmt: skip
    records.add_pending(pending)
    assert records.finish_pending(pending.id) is pending
    assert records.finish_pending(pending.id) is None
