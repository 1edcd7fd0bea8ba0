"""The revision a posted form was made from."""

from __future__ import annotations

import pytest

from smart_app.drafts import Draft, DraftOwner, DraftState
from smart_app.workflow.study_access import revision_of

DRAFT = Draft(
    id="d1",
    owner=DraftOwner("https://ehr.example.org/fhir", "p1", "u1"),
    study_id="s1",
    revision=7,
    state=DraftState.EDITING,
    study={},
    problems=(),
    based_on_version=None,
    signed_version=None,
    created_at=0.0,
    updated_at=0.0,
)


def test_the_pages_revision_is_read() -> None:
    assert revision_of({"revision": "3"}, DRAFT) == 3


@pytest.mark.parametrize("posted", ["", "x", "-1", "²", "٣", "1" * 10, "1.0"])
def test_anything_but_a_short_ascii_number_is_the_stored_revision(posted: str) -> None:
    # "²" and "٣" are digits to str.isdigit(); int() refuses the first: never a server error.
    assert revision_of({"revision": posted}, DRAFT) == DRAFT.revision


def test_a_form_without_one_is_the_stored_revision() -> None:
    assert revision_of({}, DRAFT) == DRAFT.revision
