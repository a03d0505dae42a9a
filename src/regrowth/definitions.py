"""Checks of the analysis definitions against a trial's sheet row, before any number is derived."""

from __future__ import annotations

from regrowth.errors import InputError


def check_weeks(definitions: dict, eot_week: int | None, trial_id: str) -> None:
    """A planned EOT week and every reported week must be analysis visits of the visit grid:
    otherwise no record is analysed there and every subject counts as a non-responder."""
    grid = int(definitions["visit_grid_weeks"])
    if eot_week is not None and int(eot_week) % grid:
        raise InputError(
            f"trial {trial_id}: the sheet's eot_week {eot_week} is not an analysis visit of the grid of every "
            f"{grid} weeks (config definitions.visit_grid_weeks), so no subject would have an end-of-treatment "
            f"value. Set visit_grid_weeks to a divisor of {eot_week}, or correct eot_week.")
    off = [w for w in definitions.get("report_weeks", []) if int(w) % grid]
    if off:
        raise InputError(
            f"config definitions.report_weeks {off} are not analysis visits of the grid of every {grid} weeks "
            "(definitions.visit_grid_weeks), so they would report no one. Choose multiples of visit_grid_weeks.")
