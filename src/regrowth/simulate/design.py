"""Trial designs the simulator draws from; the seed trials are calibrated instances."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResponseModel:
    """How a subject's scalp regrows on drug and loses the regrowth again off drug.

    Per subject (vectorized in engine._draw_response):
      latent z = subtype_effect[subtype] + drug_effect - duration_effect * log(1 + years since onset)
                 + Normal(0, random_sd)
      maximal regrowth fraction M = capacity * expit(z) - worsening  (negative: the scalp worsens)
      regrowth t weeks on drug   R(t) = min(1, M * t^hill / (t^hill + onset^hill)), an Emax curve;
                                 onset = onset_weeks * LogNormal(0, onset_sd) (half-maximal week)
      s weeks after the last dose R = R(end of treatment) * 2^(-s / half_life);
                                 half_life = loss_half_weeks * LogNormal(0, loss_sd)
    so a subject loses a fraction f of the end-of-treatment regrowth at s = half_life * log2(1/(1-f)):
    relapse lies wherever that crosses the analysis' fraction, not at a designed week.
    """

    drug_effect: float
    onset_weeks: float
    loss_half_weeks: float
    capacity: float = 2.5
    worsening: float = 0.1
    random_sd: float = 2.0
    duration_effect: float = 0.25
    hill: float = 2.0
    onset_sd: float = 0.3
    loss_sd: float = 0.6


@dataclass(frozen=True)
class Dropout:
    """One subject who leaves the study early (drawn at random; LACK OF EFFICACY among subjects
    whose maximal regrowth is below a third)."""

    reason: str  # DSDECOD
    week: int  # study week at which the subject stops (drug and visits)
    ae_term: str | None = None  # AEDECOD of the AE that made them stop (DSDECOD ADVERSE EVENT)
    ae_bodsys: str = "Investigations"  # its system organ class
    ae_serious: bool = False  # AESER of that AE


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
    response: ResponseModel
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
