"""A chart of realistic size (thousands of Observations, hundreds of prescriptions) is
assessed quickly and correctly: lookups are indexed, not repeated per criterion."""

from __future__ import annotations

import random
import time

from plugin.candidacy import Outcome, chart_from_resources
from tests.candidacy.chart_builder import (
    BOTH,
    LUMBAR,
    TODAY,
    ago,
    assess,
    condition,
    good_lumbar_chart,
    med_request,
    observation,
    procedure,
)

LOINC_CODES = ["2345-7", "718-7", "6690-2", "2951-2", "2823-3", "8480-6", "8462-4", "72514-3"]
DRUGS = ["metformin 500 mg", "lisinopril 10 mg", "atorvastatin 20 mg", "omeprazole 20 mg"]


def big_chart() -> list[dict[str, object]]:
    rnd = random.Random(7)
    chart: list[dict[str, object]] = list(good_lumbar_chart())
    chart += [
        observation(
            f"o{i}",
            loinc=rnd.choice(LOINC_CODES),
            when=ago(rnd.randint(0, 900)),
            value=rnd.uniform(1, 200),
            ucum="mg/dL",
        )
        for i in range(3000)
    ]
    # Old kidney results: they must not hide the recent normal eGFR of the good chart.
    chart += [
        observation(
            f"k{i}", loinc="98979-8", when=ago(40 + i), value=20 + i % 50, ucum="mL/min/{1.73_m2}"
        )
        for i in range(300)
    ]
    chart += [
        med_request(
            rnd.choice(DRUGS),
            f"m{i}",
            status=rnd.choice(["active", "completed"]),
            authored=ago(rnd.randint(0, 1500)),
            supply_days=30,
        )
        for i in range(300)
    ]
    chart += [
        procedure(f"x{i}", text="Office visit", performed=ago(rnd.randint(0, 1500)))
        for i in range(200)
    ]
    chart += [
        condition("Hypertension", f"c{i}", onset=ago(rnd.randint(0, 3000))) for i in range(50)
    ]
    return chart


def test_a_large_chart_is_assessed_within_a_second() -> None:
    chart = big_chart()
    assess(chart[:50])  # compile the policy's patterns outside the measurement
    started = time.perf_counter()
    assessment = assess(chart, order=LUMBAR, attest=BOTH)
    elapsed = time.perf_counter() - started
    assert assessment.outcome is Outcome.CANDIDATE, assessment.summary
    assert len(chart_from_resources(chart).resources) == len(chart)
    # About 0.1 s on a development machine; the bound catches accidental quadratic work.
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert assessment.today == TODAY
