"""Trial designs the simulator draws from; the seed trials are calibrated instances."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResponseCategory:
    """Subjects whose state at end of treatment lies in [low, high].

    scale 'regrowth': fraction of baseline loss regrown; scale 'salt': the SALT score itself
    (for absolute endpoints such as SALT <= 20).
    """

    name: str
    count: int
    low: float
    high: float
    responder: bool = False
    scale: str = "regrowth"


@dataclass(frozen=True)
class Dropout:
    """One subject of a category who leaves the study early."""

    category: str
    reason: str  # DSDECOD
    week: int  # study week at which the subject stops (drug and visits)
    ae_term: str | None = None  # AEDECOD of the AE that made them stop, if any


@dataclass(frozen=True)
class AdverseEventTerm:
    term: str  # AETERM as the investigator wrote it
    decod: str  # MedDRA preferred term
    bodsys: str  # MedDRA system organ class
    probability: float  # chance a subject has it at least once
    serious_probability: float = 0.0


@dataclass(frozen=True)
class TrialDesign:
    trial_id: str
    studyid: str
    arm: str
    armcd: str
    treatment: str  # EXTRT
    dose: float
    dose_unit: str
    frequency: str
    treatment_weeks: int
    followup_weeks: int
    visit_every_weeks: int
    sites: dict[str, int]
    entry_min_salt: float  # SALT must exceed this at baseline ...
    entry_at_au: bool  # ... unless AT/AU are eligible regardless
    subtype_mix: dict[str, float]
    subtype_effect: dict[str, float]  # latent responsiveness by subtype
    categories: tuple[ResponseCategory, ...]
    relapse_after_weeks: tuple[float, ...]  # one per responder; nan = no relapse
    dropouts: tuple[Dropout, ...]
    adverse_events: tuple[AdverseEventTerm, ...]
    enrolment_start: str  # ISO date of the first possible first dose
    enrolment_days: int
    partial_ae_date_rate: float = 0.0
    usubjid_style: str = "site"  # "site": STUDYID-SITE-NNN; "record": STUDYID-N (REDCap)
    subject_offset: int = 0  # first subject number minus one (arms of one trial do not overlap)
    export_regions: bool = True  # False: the export carries SALT totals only
    country: str = "USA"
    extra: dict = field(default_factory=dict)

    @property
    def n_subjects(self) -> int:
        return sum(self.sites.values())
