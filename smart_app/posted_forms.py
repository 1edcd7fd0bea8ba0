"""Reading a posted form, once per request, with the app's limits.

Starlette parses a request's form on the first `request.form()` and keeps it, so the limits of
that first call are the ones that count: every reader goes through `posted_form`. Its field-size
limit is above the largest study the draft store accepts, so an oversized field reaches the
form's own length rules (a message at the field, the other values kept) rather than the
parser's bare 400; only a post beyond any form of ours gets the error page.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from smart_app.errors import FormTooLargeError

__all__ = ["MAX_FORM_FIELDS", "MAX_FORM_FIELD_BYTES", "posted_form"]

#: Far more than the largest form (every disc of the spine, every field) posts.
MAX_FORM_FIELDS = 2000

#: Four times the largest study a draft may hold (1,000,000 characters of JSON).
MAX_FORM_FIELD_BYTES = 4 * 1024 * 1024


async def posted_form(request: Request) -> FormData:
    try:
        return await request.form(max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_FIELD_BYTES)
    except HTTPException as error:
        if error.status_code != 400:
            raise
        raise FormTooLargeError(
            "The form was too large to accept (a field of several megabytes, or thousands of "
            "fields), so nothing was saved. Go back, shorten the longest text, and save again.",
            f"form refused by the parser: {error.detail}",
        ) from None
