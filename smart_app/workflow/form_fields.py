"""A posted form as plain text fields (the last value of a repeated name; uploads ignored)."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["MAX_FORM_FIELDS", "form_fields"]

#: Far more than the largest form (every disc of the spine, every field) posts.
MAX_FORM_FIELDS = 2000


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}
