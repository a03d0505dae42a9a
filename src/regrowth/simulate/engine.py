"""Draw a trial's subjects, visits, SALT trajectories, dosing, disposition and AEs.

The result is the trial's truth in the canonical SDTM-named model; exporters then write it
in the format a site would deliver (REDCap, SDTM XPT/CSV). Vectorized over subjects so the
same code simulates 12 or 200,000 patients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.model import AA_SUBTYPE_CAT, SALT_TESTS, SALT_WEIGHTS, conform
from regrowth.simulate.design import TrialDesign
from regrowth.dates import to_iso
from regrowth.rounding import round_half_up

REGION_NOISE_SD = 1.5  # visit-to-visit noise of one region's % loss, in SALT points
RACES = ["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN", "OTHER"]
RACE_P = [0.62, 0.18, 0.12, 0.08]
AE_SEVERITY = ["MILD", "MODERATE"]
AE_RELATION = ["NOT RELATED", "POSSIBLY RELATED", "RELATED"]


def simulate_arms(designs: tuple[TrialDesign, ...], seed: int | tuple[int, ...]) -> dict[str, pd.DataFrame]:
    """A randomized trial: each arm drawn from its own design (seed: one per arm, or seed + k for
    arm k), tables stacked by subject."""
    arm_seeds = tuple(seed) if isinstance(seed, (tuple, list)) else tuple(seed + k for k in range(len(designs)))
    if len(arm_seeds) != len(designs):
        raise ValueError(f"{len(designs)} arms need {len(designs)} seeds, got {len(arm_seeds)}")
    parts = [simulate(d, s) for d, s in zip(designs, arm_seeds)]
    out = {}
    for name in parts[0]:
        out[name] = pd.concat([p[name] for p in parts], ignore_index=True)
    return out


def simulate(design: TrialDesign, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    subjects = _draw_subjects(design, rng)
    visits = _draw_visits(design, subjects, rng)
    subjects["last_dose"] = _last_dose(design, subjects, visits)
    rs = _salt_records(design, subjects, visits, rng)
    if not design.export_regions:
        rs = rs[rs["RSTESTCD"] == "SALTTOT"].reset_index(drop=True)
        rs["RSSEQ"] = rs.groupby("USUBJID").cumcount().astype("float64") + 1
    tables = {
        "dm": _dm(design, subjects, visits),
        "ex": _ex(design, subjects),
        "ds": _ds(design, subjects, visits),
        "ae": _ae(design, subjects, visits, rng),
        "sv": _sv(design, visits),
        "mh": _mh(design, subjects, rng),
        "rs": rs,
    }
    return {name: conform(df, name).drop(columns=["SRCFILE", "SRCROW"]) for name, df in tables.items()}


# --- subjects -------------------------------------------------------------------------------


def _draw_subjects(design: TrialDesign, rng: np.random.Generator) -> pd.DataFrame:
    n = design.n_subjects
    sites = np.repeat(list(design.sites), list(design.sites.values()))
    within = np.concatenate([np.arange(1, k + 1) for k in design.sites.values()]) + design.subject_offset
    if design.usubjid_style == "record":
        subjid = (np.arange(1, n + 1) + design.subject_offset).astype(str)
        usubjid = [f"{design.studyid}-{s}" for s in subjid]
    else:
        subjid = [f"{s}{i:03d}" for s, i in zip(sites, within)]
        usubjid = [f"{design.studyid}-{s}-{i:03d}" for s, i in zip(sites, within)]
    subtypes = list(design.subtype_mix)
    subtype = rng.choice(subtypes, size=n, p=np.array(list(design.subtype_mix.values())))
    duration = rng.gamma(2.0, 3.0, size=n).round(1) + 0.5  # years since onset
    first = pd.Timestamp(design.enrolment_start) + pd.to_timedelta(
        np.sort(rng.integers(0, design.enrolment_days, size=n)), unit="D"
    )
    df = pd.DataFrame(
        {
            "USUBJID": usubjid,
            "SUBJID": subjid,
            "SITEID": sites,
            "AGE": rng.integers(18, 66, size=n).astype("float64"),
            "SEX": rng.choice(["F", "M"], size=n, p=[0.6, 0.4]),
            "RACE": rng.choice(RACES, size=n, p=RACE_P),
            "ETHNIC": rng.choice(["HISPANIC OR LATINO", "NOT HISPANIC OR LATINO"], size=n, p=[0.15, 0.85]),
            "subtype": subtype,
            "duration_years": duration,
            "first_dose": first,
        }
    )
    df = pd.concat([df, _baseline_regions(design, subtype, rng)], axis=1)
    return _draw_response(design, df, rng)


def _baseline_regions(design: TrialDesign, subtype: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(subtype)
    level = rng.uniform(design.entry_min_salt + 8, 97, size=n)
    regions = np.clip(level[:, None] + rng.normal(0, 8, size=(n, 4)), 0, 100)
    ophiasis = subtype == "OPHIASIS"  # band-like: back and sides worse than the top
    regions[ophiasis, 0] = np.clip(regions[ophiasis, 0] - 20, 0, 100)
    regions[ophiasis, 1:] = np.clip(regions[ophiasis, 1:] + 10, 0, 100)
    total_scalp = np.isin(subtype, ["ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS"])
    regions[total_scalp] = 100.0
    regions = np.round(regions)
    weights = np.array(list(SALT_WEIGHTS.values()))
    # Entry criterion with a margin: lift every region until the total clears it.
    deficit = np.clip(design.entry_min_salt + 5 - regions @ weights, 0, None)
    regions = np.clip(np.round(regions + deficit[:, None] + 0.5 * (deficit[:, None] > 0)), 0, 100)
    return pd.DataFrame(regions, columns=[f"base_{k}" for k in SALT_WEIGHTS])


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _draw_response(design: TrialDesign, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Each subject's continuous response (see design.ResponseModel), then who drops out."""
    n = len(df)
    m = design.response
    latent = (
        df["subtype"].map(design.subtype_effect).to_numpy(dtype=float)
        + m.drug_effect
        - m.duration_effect * np.log1p(df["duration_years"].to_numpy())
        + rng.normal(0, m.random_sd, size=n)
    )
    max_regrowth = m.capacity * _expit(latent) - m.worsening
    onset = m.onset_weeks * np.exp(rng.normal(0, m.onset_sd, size=n))
    half_life = m.loss_half_weeks * np.exp(rng.normal(0, m.loss_sd, size=n))
    df = df.assign(latent=latent, max_regrowth=max_regrowth, onset_weeks=onset, loss_half_weeks=half_life)

    stop = np.full(n, float(design.treatment_weeks + design.followup_weeks + 1))  # past the last visit
    reason = np.full(n, "COMPLETED", dtype=object)
    ae_term = np.full(n, None, dtype=object)
    ae_bodsys = np.full(n, None, dtype=object)
    ae_serious = np.full(n, "N", dtype=object)
    drops = design.dropouts
    if drops:
        # a random order of subjects; LACK OF EFFICACY dropouts come from the poor responders
        # (maximal regrowth below a third) in that order, the others from everyone left
        order = rng.permutation(n)
        efficacy = np.array([d.reason == "LACK OF EFFICACY" for d in drops])
        poor = order[max_regrowth[order] < 1 / 3]
        chosen = np.full(len(drops), -1)
        k_eff = min(int(efficacy.sum()), len(poor))
        eff_idx = np.flatnonzero(efficacy)
        chosen[eff_idx[:k_eff]] = poor[:k_eff]
        rest = order[~np.isin(order, chosen[chosen >= 0])]
        others = np.flatnonzero(chosen < 0)
        chosen[others] = rest[: len(others)]
        stop[chosen] = [d.week for d in drops]
        reason[chosen] = [d.reason for d in drops]
        ae_term[chosen] = [d.ae_term for d in drops]
        ae_bodsys[chosen] = [d.ae_bodsys for d in drops]
        ae_serious[chosen] = ["Y" if d.ae_serious else "N" for d in drops]
    return df.assign(stop_week=stop, dsdecod=reason, dropout_ae=ae_term, dropout_ae_bodsys=ae_bodsys,
                     dropout_ae_serious=ae_serious)


# --- visits and SALT ------------------------------------------------------------------------


def _draw_visits(design: TrialDesign, subjects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    every = design.visit_every_weeks
    weeks = [-2, 0] + list(range(every, design.treatment_weeks + design.followup_weeks + 1, every))
    names = ["SCREENING", "BASELINE"] + [f"WEEK {w}" for w in weeks[2:]]
    n, k = len(subjects), len(weeks)
    grid = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), k),
            "week": np.tile(weeks, n),
            "VISIT": np.tile(names, n),
            "VISITNUM": np.tile(np.arange(1, k + 1, dtype="float64"), n),
        }
    )
    stop = subjects["stop_week"].to_numpy()[grid["subject"]]
    grid = grid[grid["week"] < stop].reset_index(drop=True)
    offset = grid["week"].to_numpy() * 7 + rng.integers(-3, 4, size=len(grid))
    screening = grid["week"].to_numpy() < 0
    offset[screening] = -rng.integers(7, 22, size=int(screening.sum()))
    offset[grid["week"].to_numpy() == 0] = 0
    first = subjects["first_dose"].to_numpy()[grid["subject"]]
    grid["date"] = pd.to_datetime(first) + pd.to_timedelta(offset, unit="D")
    grid["USUBJID"] = subjects["USUBJID"].to_numpy()[grid["subject"]]
    return grid


def _last_dose(design: TrialDesign, subjects: pd.DataFrame, visits: pd.DataFrame) -> pd.Series:
    """Completers take the last dose at the end-of-treatment visit; dropouts the day before they stop."""
    eot = visits[visits["week"] == design.treatment_weeks].set_index("subject")["date"]
    dropped = subjects["first_dose"] + pd.to_timedelta(subjects["stop_week"] * 7 - 1, unit="D")
    last = pd.Series(eot.reindex(subjects.index).to_numpy(), index=subjects.index)
    early = subjects["stop_week"] <= design.treatment_weeks
    return last.where(~early, dropped).fillna(dropped)


def _regrowth_fraction(design: TrialDesign, subjects: pd.DataFrame, visits: pd.DataFrame) -> np.ndarray:
    """Fraction of baseline loss regrown at each visit (negative = worse): an Emax curve on drug,
    exponential loss of the end-of-treatment regrowth off drug (design.ResponseModel)."""
    s = visits["subject"].to_numpy()
    w = visits["week"].to_numpy().astype(float)
    hill = design.response.hill
    top = subjects["max_regrowth"].to_numpy()[s]
    onset = subjects["onset_weeks"].to_numpy()[s]
    half_life = subjects["loss_half_weeks"].to_numpy()[s]
    T = float(design.treatment_weeks)

    def on_drug(t):
        t = np.clip(t, 0, None)
        return np.minimum(1.0, top * t**hill / (t**hill + onset**hill))

    off = np.clip(w - T, 0, None)
    return np.where(off > 0, on_drug(np.full_like(w, T)) * np.exp2(-off / half_life), on_drug(np.minimum(w, T)))


def _salt_records(design, subjects, visits, rng) -> pd.DataFrame:
    frac = _regrowth_fraction(design, subjects, visits)
    base = subjects[[f"base_{k}" for k in SALT_WEIGHTS]].to_numpy()[visits["subject"].to_numpy()]
    true = np.clip(base * (1 - frac[:, None]), 0, 100)
    noise = rng.normal(0, REGION_NOISE_SD, size=true.shape)
    obs = np.where(true >= 100, 100 - np.abs(noise), true + noise)
    obs = np.where(true <= 0, 0.0, obs)
    screening = (visits["week"].to_numpy() < 0)[:, None]
    obs = np.where(screening, base + noise, obs)  # screening: baseline disease plus noise
    regions = np.round(np.clip(obs, 0, 100))
    total = round_half_up(regions @ np.array(list(SALT_WEIGHTS.values())), 1)

    codes = list(SALT_WEIGHTS) + ["SALTTOT"]
    values = np.column_stack([regions, total])
    k = len(codes)
    rs = pd.DataFrame(
        {
            "USUBJID": np.repeat(visits["USUBJID"].to_numpy(), k),
            "RSTESTCD": np.tile(codes, len(visits)),
            "RSSTRESN": values.reshape(-1),
            "VISITNUM": np.repeat(visits["VISITNUM"].to_numpy(), k),
            "VISIT": np.repeat(visits["VISIT"].to_numpy(), k),
            "RSDTC": np.repeat(visits["date"].dt.strftime("%Y-%m-%d").to_numpy(), k),
        }
    )
    rs["STUDYID"] = design.studyid
    rs["DOMAIN"] = "RS"
    rs["RSCAT"] = "SALT"
    rs["RSTEST"] = rs["RSTESTCD"].map(SALT_TESTS)
    rs["RSORRES"] = _fmt_num(rs["RSSTRESN"])
    rs["RSORRESU"] = "%"
    rs["RSSTRESC"] = rs["RSORRES"]
    rs["RSSTRESU"] = "%"
    rs["RSSEQ"] = rs.groupby("USUBJID").cumcount().astype("float64") + 1
    return rs


def _fmt_num(x: pd.Series) -> pd.Series:
    uniq, inverse = np.unique(x.to_numpy(), return_inverse=True)  # few distinct scores
    return pd.Series(np.array([f"{v:g}" for v in uniq], dtype=object)[inverse], index=x.index)


# --- other domains --------------------------------------------------------------------------


def _end_of_participation(subjects, visits) -> pd.Series:
    """The later of the last visit and the last dose (a dropout stops between visits)."""
    last_visit = visits.groupby("subject")["date"].max().reindex(subjects.index)
    return pd.concat([last_visit, subjects["last_dose"]], axis=1).max(axis=1)


def _dm(design, subjects, visits) -> pd.DataFrame:
    last_visit = _end_of_participation(subjects, visits)
    dm = subjects[["USUBJID", "SUBJID", "SITEID", "AGE", "SEX", "RACE", "ETHNIC"]].copy()
    dm["STUDYID"] = design.studyid
    dm["DOMAIN"] = "DM"
    dm["RFSTDTC"] = to_iso(subjects["first_dose"])
    dm["RFENDTC"] = to_iso(last_visit)
    dm["RFXSTDTC"] = dm["RFSTDTC"]
    dm["RFXENDTC"] = to_iso(subjects["last_dose"])
    dm["AGEU"] = "YEARS"
    dm["ARMCD"] = design.armcd
    dm["ARM"] = design.arm
    dm["ACTARMCD"] = design.armcd
    dm["ACTARM"] = design.arm
    dm["COUNTRY"] = design.country
    return dm


def _ex(design, subjects) -> pd.DataFrame:
    """One record per 4-week supply, the last one cut at the last dose."""
    supply = 28
    n_supplies = -(-design.treatment_weeks * 7 // supply)
    k = np.arange(n_supplies)
    s = np.repeat(np.arange(len(subjects)), n_supplies)
    start = subjects["first_dose"].to_numpy()[s] + pd.to_timedelta(np.tile(k * supply, len(subjects)), unit="D")
    end = start + pd.to_timedelta(supply - 1, unit="D")
    last = subjects["last_dose"].to_numpy()[s]
    keep = start <= last
    ex = pd.DataFrame(
        {
            "USUBJID": subjects["USUBJID"].to_numpy()[s][keep],
            "EXSTDTC": to_iso(pd.Series(start[keep])),
            "EXENDTC": to_iso(pd.Series(np.minimum(end[keep], last[keep]))),
        }
    )
    final = ~ex["USUBJID"].duplicated(keep="last")  # last supply runs to the last dose
    ex.loc[final, "EXENDTC"] = to_iso(pd.Series(last[keep][final.to_numpy()])).to_numpy()
    if design.usubjid_style == "record":  # single-form REDCap capture: one record per subject
        ex = ex.groupby("USUBJID", sort=False).agg(EXSTDTC=("EXSTDTC", "min"), EXENDTC=("EXENDTC", "max")).reset_index()
    ex["STUDYID"] = design.studyid
    ex["DOMAIN"] = "EX"
    ex["EXSEQ"] = ex.groupby("USUBJID").cumcount().astype("float64") + 1
    ex["EXTRT"] = design.treatment
    ex["EXDOSE"] = design.dose
    ex["EXDOSU"] = design.dose_unit
    ex["EXDOSFRQ"] = design.frequency
    ex["EXROUTE"] = "ORAL"
    return ex


def _ds(design, subjects, visits) -> pd.DataFrame:
    consent = visits[visits["week"] < 0].set_index("subject")["date"].reindex(subjects.index)
    last_visit = _end_of_participation(subjects, visits)
    on_treatment = subjects["stop_week"] <= design.treatment_weeks
    epoch = np.where(on_treatment, "TREATMENT", "FOLLOW-UP")
    epoch = np.where(subjects["dsdecod"] == "COMPLETED", "FOLLOW-UP", epoch)
    milestone = pd.DataFrame(
        {"USUBJID": subjects["USUBJID"], "DSTERM": "INFORMED CONSENT OBTAINED",
         "DSDECOD": "INFORMED CONSENT OBTAINED", "DSCAT": "PROTOCOL MILESTONE",
         "EPOCH": "SCREENING", "DSSTDTC": to_iso(consent)}
    )
    disposition = pd.DataFrame(
        {"USUBJID": subjects["USUBJID"], "DSTERM": subjects["dsdecod"], "DSDECOD": subjects["dsdecod"],
         "DSCAT": "DISPOSITION EVENT", "EPOCH": epoch, "DSSTDTC": to_iso(last_visit)}
    )
    ds = pd.concat([milestone, disposition]).sort_values("USUBJID", kind="stable").reset_index(drop=True)
    ds["STUDYID"] = design.studyid
    ds["DOMAIN"] = "DS"
    ds["DSSEQ"] = ds.groupby("USUBJID").cumcount().astype("float64") + 1
    return ds


def _ae(design, subjects, visits, rng) -> pd.DataFrame:
    """AEs start between two weeks before the first dose and 45 days after the last, but never
    after the subject's last visit (an AE is reported at a visit)."""
    n = len(subjects)
    days_on = (subjects["last_dose"] - subjects["first_dose"]).dt.days.to_numpy()
    last_visit = (visits.groupby("subject")["date"].max().reindex(subjects.index) - subjects["first_dose"]).dt.days
    latest = np.minimum(days_on + 45, last_visit.to_numpy())
    frames = []
    for term in design.adverse_events:
        has = rng.random(n) < term.probability
        idx = np.flatnonzero(has)
        start = rng.integers(-14, 1, size=len(idx)) + (rng.random(len(idx)) * (latest[idx] + 14)).astype(int)
        start = np.minimum(start, latest[idx])
        frames.append(pd.DataFrame({"subject": idx, "AETERM": term.term, "AEDECOD": term.decod,
                                    "AEBODSYS": term.bodsys, "day": start,
                                    "AESER": np.where(rng.random(len(idx)) < term.serious_probability, "Y", "N")}))
    # an AE that ends the drug: it starts on the day of the last dose, the drug is withdrawn
    stopped = np.flatnonzero(subjects["dropout_ae"].notna().to_numpy())
    decod = subjects["dropout_ae"].to_numpy()[stopped].astype(str)
    frames.append(pd.DataFrame({"subject": stopped, "AETERM": np.char.lower(decod), "AEDECOD": decod,
                                "AEBODSYS": subjects["dropout_ae_bodsys"].to_numpy()[stopped].astype(str),
                                "day": days_on[stopped],
                                "AESER": subjects["dropout_ae_serious"].to_numpy()[stopped].astype(str),
                                "AEACN": "DRUG WITHDRAWN"}))
    ae = pd.concat(frames, ignore_index=True)
    if "AEACN" not in ae:
        ae["AEACN"] = None
    # any other AE: the drug went on unchanged, or had already stopped when it began
    other = ae["AEACN"].isna().to_numpy()
    after = ae["day"].to_numpy() > days_on[ae["subject"].to_numpy()]
    ae.loc[other, "AEACN"] = np.where(after[other], "NOT APPLICABLE", "DOSE NOT CHANGED")
    m = len(ae)
    ae["AESEV"] = rng.choice(AE_SEVERITY, size=m, p=[0.7, 0.3])
    ae["AEREL"] = rng.choice(AE_RELATION, size=m, p=[0.4, 0.4, 0.2])
    first = subjects["first_dose"].to_numpy()[ae["subject"]]
    start = pd.Series(first + pd.to_timedelta(ae["day"], unit="D"))
    end = start + pd.to_timedelta(rng.integers(2, 30, size=m), unit="D")
    ae["AESTDTC"] = to_iso(start)
    ae["AEENDTC"] = to_iso(end).mask(rng.random(m) < 0.1)  # ongoing at data cut
    # partial start dates, never on the AE that stopped the drug (its date is the last dose's)
    partial = (rng.random(m) < design.partial_ae_date_rate) & (ae["AEACN"] != "DRUG WITHDRAWN").to_numpy()
    ae.loc[partial, "AESTDTC"] = ae.loc[partial, "AESTDTC"].str[:7]
    ae["USUBJID"] = subjects["USUBJID"].to_numpy()[ae["subject"]]
    ae = ae.sort_values(["subject", "day", "AEDECOD"], kind="stable").reset_index(drop=True)
    ae["STUDYID"] = design.studyid
    ae["DOMAIN"] = "AE"
    ae["AESEQ"] = ae.groupby("USUBJID").cumcount().astype("float64") + 1
    return ae.drop(columns=["subject", "day"])


def _sv(design, visits) -> pd.DataFrame:
    sv = visits[["USUBJID", "VISITNUM", "VISIT"]].copy()
    sv["SVSTDTC"] = to_iso(visits["date"])
    sv["SVENDTC"] = sv["SVSTDTC"]
    sv["STUDYID"] = design.studyid
    sv["DOMAIN"] = "SV"
    return sv


def _mh(design, subjects, rng) -> pd.DataFrame:
    onset = subjects["first_dose"] - pd.to_timedelta((subjects["duration_years"] * 365.25).round(), unit="D")
    mh = pd.DataFrame(
        {"USUBJID": subjects["USUBJID"], "MHTERM": subjects["subtype"].str.capitalize(),
         "MHDECOD": subjects["subtype"], "MHCAT": AA_SUBTYPE_CAT,
         "MHSTDTC": onset.dt.strftime("%Y-%m")}  # onset known to the month
    )
    atopy = rng.random(len(subjects)) < 0.3
    history = pd.DataFrame(
        {"USUBJID": subjects["USUBJID"][atopy], "MHTERM": "atopic dermatitis", "MHDECOD": "Dermatitis atopic",
         "MHCAT": "GENERAL MEDICAL HISTORY", "MHSTDTC": None}
    )
    mh = pd.concat([mh, history]).sort_values("USUBJID", kind="stable").reset_index(drop=True)
    mh["STUDYID"] = design.studyid
    mh["DOMAIN"] = "MH"
    mh["MHSEQ"] = mh.groupby("USUBJID").cumcount().astype("float64") + 1
    return mh
