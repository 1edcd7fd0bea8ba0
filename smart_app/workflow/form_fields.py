"""A posted form as plain text fields (the last value of a repeated name; uploads ignored)."""

from __future__ import annotations

import re

from starlette.requests import Request

from smart_app.posted_forms import posted_form

__all__ = ["form_count", "form_fields"]

# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_COUNT = re.compile(r"[0-9]{1,9}")


async def form_fields(request: Request) -> dict[str, str]:
    form = await posted_form(request)
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def form_count(value: str) -> int | None:
    """A whole number a page posted (a revision, a count of saves); None for anything else."""
    return int(value) if _COUNT.fullmatch(value) else None
