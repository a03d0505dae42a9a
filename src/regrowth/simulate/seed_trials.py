"""The two seed trials, calibrated so the pipeline's default derivation reproduces the
published figures (see resources/reference/published_results.csv):

- NCT01950780 ruxolitinib: 9/12 SALT50 at end of treatment (week 24), 7 of the 9 with more
  than 95 % regrowth, 3 of the 9 relapsing in the 12 weeks off drug.
- NCT02197455 tofacitinib: 21/66 SALT50 at end of treatment (week 12), 21 with some regrowth
  below 50 %, 24 with less than 5 % (dropouts count as non-responders), AA and ophiasis
  responding more often than AT/AU, relapse about 8 weeks after the last dose.

Calibration is by construction: each subject's end-of-treatment regrowth is drawn inside its
category with a margin of several noise standard deviations from every threshold.
"""

from __future__ import annotations

from regrowth.simulate.design import AdverseEventTerm, Dropout, ResponseCategory, TrialDesign

NAN = float("nan")
INFECTIONS = "Infections and infestations"

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
    categories=(
        ResponseCategory("complete", 7, 1.0, 1.0, responder=True),
        ResponseCategory("good", 2, 0.65, 0.85, responder=True),
        ResponseCategory("partial", 1, 0.20, 0.40),
        ResponseCategory("none", 2, -0.05, 0.0),
    ),
    relapse_after_weeks=(4.0, 8.0, 12.0, NAN, NAN, NAN, NAN, NAN, NAN),
    dropouts=(Dropout("none", "WITHDRAWAL BY SUBJECT", 30),),
    adverse_events=(
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
    categories=(
        ResponseCategory("complete", 4, 1.0, 1.0, responder=True),
        ResponseCategory("good", 17, 0.60, 0.95, responder=True),
        ResponseCategory("partial", 21, 0.15, 0.40),
        ResponseCategory("none", 24, -0.10, 0.0),
    ),
    # 21 responders: relapse 4, 8, 12, 16 weeks after the last dose, or none in follow-up.
    relapse_after_weeks=(4.0,) * 5 + (8.0,) * 6 + (12.0,) * 4 + (16.0,) * 2 + (NAN,) * 4,
    dropouts=(
        Dropout("none", "ADVERSE EVENT", 6, ae_term="Alanine aminotransferase increased"),
        Dropout("none", "WITHDRAWAL BY SUBJECT", 5),
        Dropout("none", "WITHDRAWAL BY SUBJECT", 9),
        Dropout("none", "LOST TO FOLLOW-UP", 22),
        Dropout("partial", "LOST TO FOLLOW-UP", 26),
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
SEEDS = {"NCT01950780": 1950780, "NCT02197455": 2197455}


# BRAVE-AA1 (NCT03570749), baricitinib: randomized 3:2:2 to 4 mg, 2 mg, placebo once daily;
# SALT <= 20 at week 36 in 38.8 %, 22.8 %, 6.2 % (King 2022). Arm sizes as published
# (281, 184, 189 = 654); responders 109/281 (38.8 %), 42/184 (22.8 %), 12/189 (6.3 %: the
# nearest count to 6.2 %). Responders end treatment at SALT 0-14, well inside <= 20; the rest
# regrow at most 40 % of a baseline >= 55, so they stay above 30. Dropouts are non-responders.
_BRAVE_AE = (
    ("upper respiratory tract infection", "Upper respiratory tract infection", INFECTIONS),
    ("common cold", "Nasopharyngitis", INFECTIONS),
    ("headache", "Headache", "Nervous system disorders"),
    ("acne", "Acne", "Skin and subcutaneous tissue disorders"),
    ("CPK elevated", "Blood creatine phosphokinase increased", "Investigations"),
    ("high cholesterol", "Hypercholesterolaemia", "Metabolism and nutrition disorders"),
)


def _brave_arm(arm, armcd, dose, n, responders, offset, ae_scale, dropouts):
    probs = (0.10, 0.08, 0.06, 0.05, 0.04, 0.04)
    return TrialDesign(
        trial_id="NCT03570749", studyid="NCT03570749", arm=arm, armcd=armcd,
        treatment="PLACEBO" if dose == 0 else "BARICITINIB", dose=dose, dose_unit="mg", frequency="QD",
        treatment_weeks=36, followup_weeks=0, visit_every_weeks=4, sites={"01": n},
        entry_min_salt=50.0, entry_at_au=True,
        subtype_mix={"PATCHY AA": 0.55, "OPHIASIS": 0.05, "ALOPECIA TOTALIS": 0.15, "ALOPECIA UNIVERSALIS": 0.25},
        subtype_effect={"PATCHY AA": 1.0, "OPHIASIS": 1.0, "ALOPECIA TOTALIS": -0.4, "ALOPECIA UNIVERSALIS": -0.7},
        categories=(
            ResponseCategory("salt_le_20", responders, 0.0, 14.0, responder=True, scale="salt"),
            ResponseCategory("none", n - responders, -0.05, 0.40),
        ),
        relapse_after_weeks=(NAN,) * responders,
        dropouts=tuple(Dropout("none", reason, week) for reason, week in dropouts),
        adverse_events=tuple(AdverseEventTerm(t, d, b, p * ae_scale) for (t, d, b), p in zip(_BRAVE_AE, probs)),
        enrolment_start="2018-09-03", enrolment_days=420, partial_ae_date_rate=0.03,
        subject_offset=offset, export_regions=False,
    )


BARICITINIB = (
    _brave_arm("Baricitinib 4 mg QD", "BARI4", 4.0, 281, 109, 0, 1.4,
               [("ADVERSE EVENT", 10), ("WITHDRAWAL BY SUBJECT", 14), ("LOST TO FOLLOW-UP", 22)] * 4),
    _brave_arm("Baricitinib 2 mg QD", "BARI2", 2.0, 184, 42, 281, 1.2,
               [("ADVERSE EVENT", 12), ("WITHDRAWAL BY SUBJECT", 18), ("LACK OF EFFICACY", 26)] * 4),
    _brave_arm("Placebo", "PBO", 0.0, 189, 12, 465, 1.0,
               [("LACK OF EFFICACY", 16), ("WITHDRAWAL BY SUBJECT", 20), ("LACK OF EFFICACY", 28)] * 6),
)
SEEDS["NCT03570749"] = 3570749
