"""A hand-built SDTM CSV trial (tests/data/edge_trial) with a subject at and next to every threshold.

Every row of the export was written by hand (never by the simulator). Study EDGE01, format
sdtm-csv, planned end of treatment (sheet eot_week) 24, data cut 2025-01-31. Arms:
"Drug A 5 mg BID" (subjects 001-012, first dose 2024-01-01) and "Placebo" (013-015, first dose
2024-01-15); 016 is a screen failure.

Study day = date - first dose + 1. Analysis week w targets study day 7w + 1, window +/- 14
days. Drug A calendar (first dose 2024-01-01 = day 1):

    day -14 2023-12-18 SCREENING     day 169 2024-06-17 WEEK 24 (last dose of most)
    day   0 2023-12-31 (day before)  day 183 2024-07-01 = day 169 + 14
    day  85 2024-03-25 WEEK 12       day 184 2024-07-02 = day 169 + 15
    day 141 2024-05-20 WEEK 20       day 197 2024-07-15 WEEK 28 (last dose + 28)
    day 162 2024-06-10 (target - 7)  day 225 2024-08-12 WEEK 32 (+ 56)
    day 165 2024-06-13 (target - 4)  day 253 2024-09-09 WEEK 36 (+ 84)
    day 171 2024-06-19 (target + 2)  day 281 2024-10-07 WEEK 40 (+ 112)
    day 176 2024-06-24 (target + 7)  day 309 2024-11-04 WEEK 44 (+ 140)

Placebo calendar (first dose 2024-01-15): day -14 2024-01-01, day 80 2024-04-03, day 85
2024-04-08 (WEEK 12), day 113 2024-05-06 (WEEK 16), day 169 2024-07-01 (WEEK 24).

Endpoints (defaults): SALT50/75/90 = PCHG <= -50/-75/-90; SALTLE20/10 = AVAL <= 20/10.
PCHG = (AVAL - BASE) / BASE * 100; each value below was checked in Python to be the double
written (e.g. (50.1 - 100) / 100 * 100 == -49.9 exactly). Relapse threshold at fraction f:
EOT + f * (BASE - EOT); time = ADT - TRTEDT. Flags below are (SALT50, 75, 90, LE20, LE10).

EDGE01-001  BASE 100 on the first-dose day (screening 90 on day -14 is earlier, not baseline).
            EOT 50.0 -> PCHG -50.0 exactly: SALT50 at the threshold (Y N N N N); regrowth 50.0
            is the lower edge of band 50-95%. Off drug: W28 60, W32 75.0, W36 80, W40 86.
            Relapse at f=0.5: threshold 75.0 exactly, reached at W32 -> event day 56.
            f=0.4 (70): W32 -> 56. f=0.7 (85): W40 86 -> 112.
            Baseline rule before_first_dose: BASE 90, PCHG -44.4 -> not a responder.
            AEs: URTI on the first-dose day (emergent), folliculitis, URTI again (one subject
            once per SOC and PT).
EDGE01-002  BASE 100. EOT window holds day 165 (40, 4 days early) and day 171 (50.1, 2 days
            late, last dose 2024-06-19): the closer, day 171, is analysed -> PCHG -49.9
            (N N N N N); band 5-<50%. No follow-up.
EDGE01-003  Baseline only on the first-dose day (100; no screening SALT). EOT 5.0 -> PCHG
            -95.0: regrowth 95.0 is band 50-95% (Y Y Y Y Y). W28 60 (f=0.5 threshold 52.5:
            event day 28; f=0.4 43: 28), W32 75 (f=0.7 71.5: 56). AE on the day before first
            dose (not emergent). before_first_dose: no baseline -> FASFL N.
EDGE01-004  BASE 100, EOT 4.9 -> PCHG -95.1: regrowth 95.1 band >95% (Y Y Y Y Y). W28 53
            (f=0.5 threshold 52.45: event 28; f=0.4: 28), W32 72 (f=0.7 71.47: 56).
            AE with a missing start date (emergent, conservative).
EDGE01-005  BASE 80. Two records 7 days either side of the week-24 target: day 162 (20.0) and
            day 176 (30.0, off drug): the tie goes to the earlier -> EOT 20.0, PCHG -75.0
            (Y Y N Y N). Without eot_week (last on-treatment assessment, up to last dose + 14)
            EOT is day 176: 30.0, PCHG -62.5 (Y N N N N). Off drug after EOT: day 176 30,
            W28 35, W32 40, W36 45: f=0.5 (50) censored day 84; f=0.4 (44) event 84; f=0.7
            censored 84. Serious AE (cellulitis).
EDGE01-006  BASE 80, EOT 20.1 -> PCHG -74.875 (Y N N N N); SALTLE20 value 20.1 makes it Y.
            W28 40, W32 51, W36 63: f=0.5 (50.05) event 56; f=0.4 (44.06) 56; f=0.7 (62.03) 84.
EDGE01-007  BASE 100, EOT 10.0 -> PCHG -90.0 (Y Y Y Y Y). Two EX records (a gap in April);
            last dose 2024-06-17. W28 54.9 is just below the f=0.5 threshold 55.0; W32 50,
            W36 50, W40 56 -> event 112 (plateau end). f=0.4 (46): 28; f=0.7 (73): censored 112.
            AE exactly 30 days after the last dose (2024-07-17, emergent; not with window 29).
EDGE01-008  BASE 100, EOT 10.1 -> PCHG -89.9 (Y Y N Y N). W28 30, W32 40, W36 45: censored
            84 at every fraction. AE 31 days after the last dose (2024-07-18: not emergent;
            emergent with window 31).
EDGE01-009  BASE 100. Only record in the week-24 window is day 183, exactly 14 days after the
            target (and exactly last dose + 14): EOT 30.0, PCHG -70 (Y N N N N) by both EOT
            rules. With visit_window_days 13 it leaves the window (NRI non-responder). No
            assessment after EOT -> relapse CNSR 2 (AVAL 0).
EDGE01-010  BASE 100. W20 (day 141) 40.0; next record day 184, 15 days after the target and
            last dose + 15 (labelled WEEK 24: RG0706 warns, deliberately); W32 72. With
            eot_week 24: no EOT record (missed) -> NRI non-responder, dropped when observed.
            Without eot_week: EOT is W20 40.0, PCHG -60 (Y N N N N); threshold 70, W32 72 ->
            relapse day 56.
EDGE01-011  EXENDTC "2024-06" (partial): imputed to 2024-06-30 but capped at the last
            assessment/visit 2024-06-17 (data cut 2025-01-31 is later) -> TRTEDT 2024-06-17,
            TRTEDTF "D". EOT 30.0, PCHG -70 (Y N N N N); no follow-up -> CNSR 2.
            Discontinued: WITHDRAWAL BY SUBJECT. AE 2024-05-15 (emergent only with TRTEDT).
EDGE01-012  Four regions only (SALT01..04), totals derived 0.40 top + 0.24 back + 0.18 right +
            0.18 left, not rounded (only where shown): screening 100/100/90/80 -> 94.6 (BASE);
            W12 55/61/65/63 -> 59.68; W24 15/21/25/25 -> 20.04 (not SALT <= 20: rounding to 20.0
            first would make it a responder); PCHG (20.04 - 94.6) / 94.6 * 100 = -78.816
            (Y Y N N N). W28..W44 all four regions 30, 40, 45, 50, 55 -> totals 30.0
            (29.999999999999996 in floating point), 40.0, 45.0, 50.0, 55.0. f=0.5 (57.32)
            censored 140; f=0.4 (49.864) event 112; f=0.7 (72.232) censored 140.
EDGE01-013  Placebo. BASE 70, W12 (day 85 = last dose) 30.0, W16 (day 113, off drug) 52.
            AE with AEACN DRUG WITHDRAWN (day 80, emergent); DS ADVERSE EVENT. eot_week 24:
            no record (NRI). Without eot_week: EOT W12 30.0, PCHG -57.14 (Y N N N N);
            threshold 50, W16 52 -> relapse day 28.
EDGE01-014  Placebo. BASE 60, EOT 55.0, PCHG -8.33 (N N N N N); band 5-<50%.
EDGE01-015  Placebo, dosed, no SALT before the first dose: SAFFL Y, FASFL N (RG0702 warns,
            deliberately). Headache AE (emergent).
EDGE01-016  Screen failure (ARM "Screen Failure", no EX, screening SALT 25): SAFFL, ITTFL,
            FASFL N; disposition SCREEN FAILURE.

Kaplan-Meier of time to relapse (defaults, eot_week 24), Drug A: EOT SALT50 responders 001,
003-009, 011, 012 (10); 009 and 011 have no assessment after EOT (CNSR 2), leaving 8 at risk.
Events: day 28 (003, 004), day 56 (001, 006), day 112 (007); censored day 84 (005, 008), 140
(012). S = 6/8 = 0.75 after day 28, 0.75 * 4/6 = 0.5 (exactly, in floating point too) on
[56, 112), then 0.25: median = (56 + 112) / 2 = 84 days = 12 weeks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

EDGE_TRIAL = Path(__file__).resolve().parent / "data" / "edge_trial"
EOT_WEEK = 24
DATA_CUT = "2025-01-31"


def edge_trial(tmp_path) -> Path:
    """A fresh copy of the edge export in tmp_path/edge_trial (tests may modify it)."""
    dest = Path(tmp_path) / "edge_trial"
    shutil.copytree(EDGE_TRIAL, dest)
    return dest


def run_edge(tmp_path=None, **kwargs):
    """run_trial on a fresh copy of the export with the planned eot_week and data cut (override
    either through kwargs, e.g. eot_week=None); other kwargs go to run_trial (definitions=...)."""
    from regrowth.trial import run_trial

    kwargs = {"eot_week": EOT_WEEK, "data_cut": DATA_CUT, **kwargs}
    if tmp_path is None:
        with tempfile.TemporaryDirectory() as tmp:
            return run_trial(edge_trial(tmp), "sdtm-csv", **kwargs)
    return run_trial(edge_trial(tmp_path), "sdtm-csv", **kwargs)
