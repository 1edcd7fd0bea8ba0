from __future__ import annotations

import pytest

from plugin.cds_hooks.app_context import AppContext, app_context_text, read_app_context
from plugin.errors import InputProblemError


def test_round_trip() -> None:
    context = AppContext("svc", "order-sign", "h-1", "ServiceRequest/abc")
    text = app_context_text(context)
    assert (
        text == '{"draftOrder":"ServiceRequest/abc","hook":"order-sign",'
        '"hookInstance":"h-1","service":"svc"}'
    )
    assert read_app_context(text) == context
    no_order = AppContext("svc", "order-select", "h-2", None)
    assert read_app_context(app_context_text(no_order)) == no_order


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"service": "x"}', '{"service":"s","hook":"h","hookInstance":"i","draftOrder":1}'],
)
def test_foreign_app_context_is_refused(text: str) -> None:
    with pytest.raises(InputProblemError):
        read_app_context(text)
