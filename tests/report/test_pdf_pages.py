from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from plugin.report.pdf_pages import pdf_date


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(hours=-5), "D:20261120110500-05'00'"),
        (timedelta(0), "D:20261120110500+00'00'"),
        (timedelta(hours=5, minutes=45), "D:20261120110500+05'45'"),
    ],
)
def test_pdf_date_keeps_the_local_time_and_offset(offset: timedelta, expected: str) -> None:
    assert pdf_date(datetime(2026, 11, 20, 11, 5, tzinfo=timezone(offset))) == expected
