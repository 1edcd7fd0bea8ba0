"""A study draft as the pages see it: the study as typed (valid or not), its revision, and the
problems that keep it from being signed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugin.errors import Problem
from smart_app.drafts.owner import DraftOwner

__all__ = ["Draft", "DraftState"]


class DraftState(StrEnum):
    EDITING = "editing"  # being written (a new study, or an amendment of a signed one)
    SIGNED = "signed"  # its last revision was signed; editing it again starts an amendment


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    owner: DraftOwner
    study_id: str
    revision: int
    state: DraftState
    study: dict[str, Any]
    problems: tuple[Problem, ...]
    based_on_version: int | None  # the signed version this draft amends, if any
    signed_version: int | None  # the version its last signing produced
    created_at: float
    updated_at: float
    # The results page (one render of it) that made the last save and its count of saves;
    # None after any other save, a signature or the start of an amendment.
    editor: str | None = None
    editor_sequence: int | None = None

    @property
    def signable(self) -> bool:
        return self.state is DraftState.EDITING and not self.problems

    @property
    def amendment(self) -> bool:
        return self.based_on_version is not None
