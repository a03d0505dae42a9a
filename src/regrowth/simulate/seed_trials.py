"""The seed trials: designs whose response model and seed were fitted so that the pipeline's
default derivation reproduces the published figures (resources/reference/published_results.csv):

- NCT01950780 ruxolitinib: 9/12 SALT50 at end of treatment (week 24), 7 of the 9 with more
  than 95 % regrowth, 3 of the 9 relapsing in the 12 weeks off drug.
- NCT02197455 tofacitinib: 21/66 SALT50 at end of treatment (week 12), 21 with some regrowth
  (5 to < 50 %), 24 with less than 5 % or no assessment (dropouts count as non-responders), AA
  and ophiasis responding more often than AT/AU, median relapse 7-10 weeks after the last dose.
- NCT03570749 baricitinib (BRAVE-AA1, simulated): SALT <= 20 at week 36 in 109/281, 42/184, 12/189.

Calibration is by fitting, not by construction: every subject's regrowth is a continuous draw
from the design's ResponseModel (design.py), so subjects lie on both sides of every threshold
and another SALT50 cut or relapse fraction gives other counts. The model's parameters were set
so the expected rates match the publications, then the seeds were searched once, offline, with
`python -m regrowth.simulate.calibrate` (the first seed from 1 whose trial gives the published
counts under the default definitions); tests/test_simulator_calibration.py checks the counts
through the real pipeline.
"""

from __future__ import annotations

from regrowth.simulate.design import AdverseEventTerm, Dropout, ResponseModel, TrialDesign

INFECTIONS = "Infections and infestations"

# Fitted parameters and seeds. The response model's shape (design.ResponseModel defaults:
# capacity 2.5, random_sd 2.0) was chosen on a grid (capacity 1.6/2.5/4, random_sd 1-2.5) as the
# one whose expected shares fit both seed trials once each drug effect matches its SALT50 rate:
# ruxolitinib > 95 % regrowth 0.60 (7/12 published), tofacitinib 5-<50 % 0.32 and < 5 % or not
# assessed 0.36 (21 and 24 of 66). Loss half-lives (14 and 7 weeks) give an expected third of
# ruxolitinib responders relapsing within the 12 weeks off drug and a tofacitinib median of about
# 8.5 weeks. Drug effects: `python -m regrowth.simulate.calibrate --effects` (bisection on the
# noise-free rate of a 20,000-subject trial: ruxolitinib 0.35, tofacitinib -1.44, BRAVE arms
# -0.81, -1.83, -3.51), the BRAVE ones then lowered by hand (-0.86, -1.90, -3.59) because visit
# noise raised their expected SALT <= 20 rates by about 1 point. Seeds:
# `python -m regrowth.simulate.calibrate` (first seed from 1 meeting the published counts).
RUX_EFFECT, TOFA_EFFECT = 0.35, -1.44
BARI4_EFFECT, BARI2_EFFECT, PBO_EFFECT = -0.86, -1.90, -3.59
RUX_SEED, TOFA_SEED = 39, 180
BARI_SEEDS = (40, 20, 6)


RUXOLITINIB = TrialDesign(
    trial_id="NCT01950780",
    studyid="NCT01950780",
    arm="Ruxolitinib 20 mg BID",
    armcd="RUX20",
    treatment="RUXOLITINIB",
    dose=20.0,
    dose_unit="mg",
    frequency="BID",
    treatment_weeks=24,
    followup_weeks=12,
    visit_every_weeks=4,
    sites={"01": 12},
    entry_min_salt=30.0,
    entry_at_au=False,
    subtype_mix={"PATCHY AA": 0.6, "OPHIASIS": 0.1, "ALOPECIA TOTALIS": 0.15, "ALOPECIA UNIVERSALIS": 0.15},
    subtype_effect={"PATCHY AA": 1.0, "OPHIASIS": 0.7, "ALOPECIA TOTALIS": -0.3, "ALOPECIA UNIVERSALIS": -0.6},
    response=ResponseModel(drug_effect=RUX_EFFECT, onset_weeks=8.0, loss_half_weeks=14.0),
    dropouts=(Dropout("WITHDRAWAL BY SUBJECT", 30),),
    adverse_events=(  # the pilot reported no serious AEs
        AdverseEventTerm("bacterial skin infection", "Skin bacterial infection", INFECTIONS, 0.25),
        AdverseEventTerm("seasonal allergies", "Seasonal allergy", "Immune system disorders", 0.25),
        AdverseEventTerm("low hemoglobin", "Haemoglobin decreased", "Investigations", 0.2),
        AdverseEventTerm("URI", "Upper respiratory tract infection", INFECTIONS, 0.3),
        AdverseEventTerm("headache", "Headache", "Nervous system disorders", 0.15),
        AdverseEventTerm("acne", "Acne", "Skin and subcutaneous tissue disorders", 0.1),
    ),
    enrolment_start="2013-10-07",
    enrolment_days=300,
    usubjid_style="record",
)

TOFACITINIB = TrialDesign(
    trial_id="NCT02197455",
    studyid="NCT02197455",
    arm="Tofacitinib 5 mg BID",
    armcd="TOFA5",
    treatment="TOFACITINIB",
    dose=5.0,
    dose_unit="mg",
    frequency="BID",
    treatment_weeks=12,
    followup_weeks=24,
    visit_every_weeks=4,
    sites={"01": 30, "02": 36},
    entry_min_salt=50.0,
    entry_at_au=True,
    subtype_mix={"PATCHY AA": 0.45, "OPHIASIS": 0.08, "ALOPECIA TOTALIS": 0.17, "ALOPECIA UNIVERSALIS": 0.30},
    subtype_effect={"PATCHY AA": 1.0, "OPHIASIS": 1.0, "ALOPECIA TOTALIS": -0.4, "ALOPECIA UNIVERSALIS": -0.7},
    response=ResponseModel(drug_effect=TOFA_EFFECT, onset_weeks=7.0, loss_half_weeks=7.0),
    dropouts=(  # one stop for raised liver enzymes; infections were grade I-II only (no SAE)
        Dropout("ADVERSE EVENT", 6, ae_term="Alanine aminotransferase increased"),
        Dropout("WITHDRAWAL BY SUBJECT", 5),
        Dropout("WITHDRAWAL BY SUBJECT", 9),
        Dropout("LOST TO FOLLOW-UP", 22),
        Dropout("LOST TO FOLLOW-UP", 26),
    ),
    adverse_events=(
        AdverseEventTerm("upper respiratory infection", "Upper respiratory tract infection", INFECTIONS, 0.25),
        AdverseEventTerm("UTI", "Urinary tract infection", INFECTIONS, 0.05),
        AdverseEventTerm("common cold", "Nasopharyngitis", INFECTIONS, 0.10),
        AdverseEventTerm("headache", "Headache", "Nervous system disorders", 0.15),
        AdverseEventTerm("acne", "Acne", "Skin and subcutaneous tissue disorders", 0.05),
        AdverseEventTerm("elevated cholesterol", "Blood cholesterol increased", "Investigations", 0.10),
        AdverseEventTerm("fatigue", "Fatigue", "General disorders and administration site conditions", 0.05),
    ),
    enrolment_start="2014-08-04",
    enrolment_days=270,
    partial_ae_date_rate=0.08,
    usubjid_style="site",
)

SEED_TRIALS = {d.trial_id: d for d in (RUXOLITINIB, TOFACITINIB)}
SEEDS: dict[str, int | tuple[int, ...]] = {"NCT01950780": RUX_SEED, "NCT02197455": TOFA_SEED}


# BRAVE-AA1 (NCT03570749), baricitinib: randomized 3:2:2 to 4 mg, 2 mg, placebo once daily;
# SALT <= 20 at week 36 in 38.8 %, 22.8 %, 6.2 % (King 2022). Arm sizes as published
# (281, 184, 189 = 654); responders 109/281 (38.8 %), 42/184 (22.8 %), 12/189 (6.3 %: the
# nearest count to 6.2 %). The arms share one response model and differ in drug effect (placebo:
# spontaneous regrowth only). Safety: serious AEs and AEs leading to discontinuation at small
# rates of the order the phase 3 publications report (about 1-3 % of an arm, placebo included);
# these are plausible magnitudes, not figures of the reference table.
_BRAVE_AE = (
    ("upper respiratory tract infection", "Upper respiratory tract infection", INFECTIONS),
    ("common cold", "Nasopharyngitis", INFECTIONS),
    ("headache", "Headache", "Nervous system disorders"),
    ("acne", "Acne", "Skin and subcutaneous tissue disorders"),
    ("CPK elevated", "Blood creatine phosphokinase increased", "Investigations"),
    ("high cholesterol", "Hypercholesterolaemia", "Metabolism and nutrition disorders"),
)
_BRAVE_SAE = (  # serious whenever they occur; each a third of the arm's serious-AE rate
    ("pneumonia", "Pneumonia", INFECTIONS),
    ("appendicitis", "Appendicitis", INFECTIONS),
    ("cellulitis", "Cellulitis", INFECTIONS),
)
# AEs that end the drug (DSDECOD ADVERSE EVENT, AEACN DRUG WITHDRAWN), in the order used
_BRAVE_STOP = (
    ("Blood creatine phosphokinase increased", "Investigations", False, 10),
    ("Herpes zoster", INFECTIONS, False, 14),
    ("Alanine aminotransferase increased", "Investigations", False, 18),
    ("Acne", "Skin and subcutaneous tissue disorders", False, 8),
    ("Pneumonia", INFECTIONS, True, 22),
    ("Headache", "Nervous system disorders", False, 6),
    ("Neutrophil count decreased", "Investigations", False, 26),
)


def _brave_arm(arm, armcd, dose, n, offset, effect, ae_scale, sae_rate, n_ae_stops, dropouts):
    probs = (0.10, 0.08, 0.06, 0.05, 0.04, 0.04)
    stops = tuple(Dropout("ADVERSE EVENT", week, ae_term=decod, ae_bodsys=soc, ae_serious=serious)
                  for decod, soc, serious, week in _BRAVE_STOP[:n_ae_stops])
    return TrialDesign(
        trial_id="NCT03570749", studyid="NCT03570749", arm=arm, armcd=armcd,
        treatment="PLACEBO" if dose == 0 else "BARICITINIB", dose=dose, dose_unit="mg", frequency="QD",
        treatment_weeks=36, followup_weeks=0, visit_every_weeks=4, sites={"01": n},
        entry_min_salt=50.0, entry_at_au=True,
        subtype_mix={"PATCHY AA": 0.55, "OPHIASIS": 0.05, "ALOPECIA TOTALIS": 0.15, "ALOPECIA UNIVERSALIS": 0.25},
        subtype_effect={"PATCHY AA": 1.0, "OPHIASIS": 1.0, "ALOPECIA TOTALIS": -0.4, "ALOPECIA UNIVERSALIS": -0.7},
        response=ResponseModel(drug_effect=effect, onset_weeks=14.0, loss_half_weeks=10.0),
        dropouts=stops + tuple(Dropout(reason, week) for reason, week in dropouts),
        adverse_events=tuple(AdverseEventTerm(t, d, b, p * ae_scale) for (t, d, b), p in zip(_BRAVE_AE, probs))
        + tuple(AdverseEventTerm(t, d, b, sae_rate / 3, serious_probability=1.0) for t, d, b in _BRAVE_SAE),
        enrolment_start="2018-09-03", enrolment_days=420, partial_ae_date_rate=0.03,
        subject_offset=offset, export_regions=False,
    )


BARICITINIB = (
    _brave_arm("Baricitinib 4 mg QD", "BARI4", 4.0, 281, 0, BARI4_EFFECT, 1.4, 0.025, 7,
               [("WITHDRAWAL BY SUBJECT", 14), ("LOST TO FOLLOW-UP", 22)] * 3),
    _brave_arm("Baricitinib 2 mg QD", "BARI2", 2.0, 184, 281, BARI2_EFFECT, 1.2, 0.015, 3,
               [("WITHDRAWAL BY SUBJECT", 18), ("LACK OF EFFICACY", 26)] * 3),
    _brave_arm("Placebo", "PBO", 0.0, 189, 465, PBO_EFFECT, 1.0, 0.015, 2,
               [("LACK OF EFFICACY", 16), ("WITHDRAWAL BY SUBJECT", 20), ("LACK OF EFFICACY", 28)] * 5),
)
SEEDS["NCT03570749"] = BARI_SEEDS  # one per arm (engine.simulate_arms)
