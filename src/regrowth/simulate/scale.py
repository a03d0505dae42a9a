"""Trials of any size, built from the calibrated seed designs (benchmarks, partition tests).

A scaled trial keeps its template's response model (so its expected response and relapse rates)
and its dropouts in proportion; subjects are spread over sites of at most 999, and the number of
scheduled visits can be set (the follow-up is lengthened or shortened to fit).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from regrowth.simulate.design import TrialDesign
from regrowth.simulate.seed_trials import BARICITINIB, RUXOLITINIB, TOFACITINIB

TEMPLATES: dict[str, TrialDesign] = {
    "tofacitinib": TOFACITINIB,
    "ruxolitinib": RUXOLITINIB,
    "baricitinib": BARICITINIB[0],
}
SUBJECTS_PER_SITE = 999  # SUBJID is the site id and a three-digit number


def apportion(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder apportionment of `total` in proportion to `weights` (ties: first wins)."""
    if total < 0 or not weights or sum(weights) <= 0:
        raise ValueError("apportion needs a non-negative total and positive weights")
    exact = [total * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _cycle(values: tuple, n: int) -> tuple:
    return tuple(values[i % len(values)] for i in range(n)) if values else ()


def scaled_design(template: TrialDesign, n_subjects: int, trial_id: str,
                  visits: int | None = None) -> TrialDesign:
    """`template` resized to `n_subjects` as trial `trial_id` (also its STUDYID)."""
    if n_subjects < 1:
        raise ValueError(f"{trial_id}: at least one subject is needed")
    # dropouts in proportion (the template's list repeated), never more than the subjects
    n_drop = min(round(len(template.dropouts) * n_subjects / template.n_subjects), n_subjects)
    dropouts = _cycle(template.dropouts, n_drop)
    n_sites = math.ceil(n_subjects / SUBJECTS_PER_SITE)
    # fixed-width site ids: subjects then sort by USUBJID in site order, as a real SDTM export's
    # rows do (its datasets are sorted by their keys); "100" would sort before "13" otherwise
    width = max(2, len(str(n_sites)))
    sites = {f"{k + 1:0{width}d}": v for k, v in enumerate(apportion(n_subjects, [1] * n_sites))}
    followup = template.followup_weeks
    if visits is not None:
        every = template.visit_every_weeks
        followup = (visits - 2) * every - template.treatment_weeks
        if followup < 0:
            raise ValueError(f"{trial_id}: {visits} visits end before the end of treatment")
    return replace(
        template,
        trial_id=trial_id,
        studyid=trial_id,
        dropouts=dropouts,
        sites=sites if template.usubjid_style == "site" else {"01": n_subjects},
        followup_weeks=followup,
        subject_offset=0,
        enrolment_days=max(template.enrolment_days, n_subjects // 20),
    )


def data_cut(design: TrialDesign) -> str:
    """A data cut after every visit of every subject (last enrolment + schedule + window)."""
    weeks = design.treatment_weeks + design.followup_weeks
    last = pd.Timestamp(design.enrolment_start) + pd.Timedelta(days=design.enrolment_days + 7 * weeks + 60)
    return last.strftime("%Y-%m-%d")


def trial_ids(n_trials: int, prefix: str = "SIM") -> list[str]:
    width = max(3, len(str(n_trials)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n_trials)]


def seeds(base_seed: int, n: int) -> list[int]:
    """Independent, reproducible seeds for n trials from one base seed."""
    return [int(s) for s in np.random.SeedSequence(base_seed).generate_state(n)]


__all__ = ["TEMPLATES", "apportion", "data_cut", "scaled_design", "seeds", "trial_ids"]
