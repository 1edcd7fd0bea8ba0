"""Pressure sensitivity of a disc (Derby et al. 1999): at what ΔP its pain began.

Reported beside the category where the rule set defines bands. The ΔP of a concordant pain
response is classified by every band; the open-ended top band ("normal", no pain up to ΔP above
90 psi) may also classify discordant pain beginning that high and a disc that stayed painless to
a peak pressure that high above opening.
"""

from __future__ import annotations

from plugin.interpretation.criterion import painful
from plugin.interpretation.results import PressureSensitivity
from plugin.interpretation.thresholds import PressureBand, pressure_band_for
from plugin.study.model import Level, PainResponse

__all__ = ["classify_pressure_sensitivity"]


def classify_pressure_sensitivity(
    level: Level, bands: tuple[PressureBand, ...]
) -> PressureSensitivity | None:
    """The class of `level`, or None where bands are not defined or the data do not place it
    (a level not completed, pressures not recorded, a painless disc not pressurised into the
    top band, discordant pain below it)."""
    if not bands or not level.completed:
        return None
    if painful(level):
        delta_p = level.delta_p_psi
        if delta_p is None:
            return None
        return pressure_band_for(bands, delta_p, level.pain_response is PainResponse.CONCORDANT)
    if level.peak_pressure_psi is None or level.opening_pressure_psi is None:
        return None
    painless_up_to = round(level.peak_pressure_psi - level.opening_pressure_psi, 3)
    return pressure_band_for(bands, painless_up_to, concordant=False)
