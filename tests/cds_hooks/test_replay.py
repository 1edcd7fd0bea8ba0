from __future__ import annotations

from plugin.cds_hooks.replay import SeenTokenIds


def test_a_token_id_is_accepted_once_until_it_expires() -> None:
    seen = SeenTokenIds()
    assert seen.first_use("iss", "a", keep_until=100.0, now=0.0)
    assert not seen.first_use("iss", "a", keep_until=100.0, now=50.0)
    assert seen.first_use("other-iss", "a", keep_until=100.0, now=50.0)
    assert seen.first_use("iss", "a", keep_until=300.0, now=101.0)  # the first has expired


def test_expired_ids_are_forgotten() -> None:
    seen = SeenTokenIds()
    for index in range(100):
        seen.first_use("iss", str(index), keep_until=10.0, now=0.0)
    seen.first_use("iss", "late", keep_until=500.0, now=100.0)
    assert len(seen) == 1
