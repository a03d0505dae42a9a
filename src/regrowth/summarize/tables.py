"""The cross-trial summary tables. Denominators always come from ADSL population flags.

Each builder states what it reads of each analysis table (columns, and the rows as a polars
predicate) in one place, its read_rows call; a source is a Parquet file, a dataset directory or
a frame in memory (summarize.select). Record-level work (selection, joins, group counts) is
polars'; the small tables are assembled in pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from regrowth.derive.salt import TOTAL_RECORDS
from regrowth.rounding import at_compare_precision
from regrowth.summarize.select import has_rows, read_rows, to_pandas
from regrowth.summarize.stats import clopper_pearson, km_median, newcombe_diff

OVERALL = "Overall"
REGROWTH_BANDS = [  # (label, test on percent regrowth = -PCHG at end of treatment)
    (">95%", lambda r: r > 95),
    ("50-95%", lambda r: (r >= 50) & (r <= 95)),
    ("5-<50%", lambda r: (r >= 5) & (r < 50)),
    ("<5% or not assessed", None),  # the rest, missing included (non-responder imputation)
]
# every ADSALT read of the summaries is within the total-score records (TOTAL_RECORDS), so a job
# reads them once for all its builders (select.read_subset)
EOT = pl.col("EOTFL") == "Y"
AT_EOT = TOTAL_RECORDS & EOT
RELAPSE = "TTRELAPS"


def _proportion_row(x: int, n: int) -> dict:
    low, high = clopper_pearson(x, n)
    return {"n_responders": x, "n_subjects": n, "pct": 100 * x / n if n else np.nan,
            "ci_low": 100 * low, "ci_high": 100 * high}


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})


def has_salt(adsalt) -> bool:
    """Whether the trial has any total SALT record: the builders tell a trial without SALT data
    from one without records at the visits they summarise."""
    return has_rows(adsalt, within=TOTAL_RECORDS)


def fas_subjects(adsl) -> pl.DataFrame:
    """FAS subjects: USUBJID, TRT01P and (where ADSL has it) AATYPE."""
    return read_rows(adsl, ["USUBJID", "TRT01P", "FASFL"], pl.col("FASFL") == "Y", optional=["AATYPE"], name="adsl")


def _subtypes(fas: pl.DataFrame, arm: str) -> list[str]:
    if "AATYPE" not in fas.columns:
        return []
    values = fas.filter(pl.col("TRT01P") == arm)["AATYPE"].drop_nulls().cast(pl.String).unique()
    return sorted(values.to_list())


def efficacy_table(trial_id: str, adsl, adsalt, endpoints: list[dict], weeks: list[int],
                   imputation: str) -> pd.DataFrame:
    """Responder rates by arm, endpoint and timepoint (EOT and configured weeks), FAS.

    imputation 'NRI': every FAS subject is in the denominator; missing = non-responder.
    'observed': only subjects with an analysed value at that visit are counted.
    """
    columns = ["trial_id", "arm", "subgroup", "endpoint", "timepoint", "phase", "n_responders", "n_subjects",
               "pct", "ci_low", "ci_high", "imputation"]
    crit = [f"CRIT{y}FL" for y in range(1, len(endpoints) + 1)]
    # the end-of-treatment record need not be an analysed visit (no planned EOT week: the last
    # on-treatment assessment), the others are
    at_weeks = ((pl.col("ANL01FL") == "Y") & pl.col("AVISITN").is_in([float(w) for w in weeks])
                if weeks else pl.lit(False))
    records = read_rows(adsalt, ["USUBJID", "EOTFL", "ANL01FL", "AVISITN", "APHASE", *crit], EOT | at_weeks,
                        within=TOTAL_RECORDS, name="adsalt")
    if records.is_empty() and not has_salt(adsalt):
        return _empty(columns)
    fas = fas_subjects(adsl)
    subgroup = pl.col("AATYPE").cast(pl.String) if "AATYPE" in fas.columns else pl.lit(None, pl.String)
    subjects = fas.select(pl.col("USUBJID").cast(pl.String), arm=pl.col("TRT01P").cast(pl.String), subgroup=subgroup)
    records = records.with_columns(pl.col("USUBJID").cast(pl.String)).join(subjects, on="USUBJID", how="inner")
    timepoints = [("EOT", records.filter(pl.col("EOTFL") == "Y"))]
    timepoints += [(f"W{w}", records.filter((pl.col("ANL01FL") == "Y") & (pl.col("AVISITN") == float(w))))
                   for w in weeks]
    counts = {}  # (timepoint, arm, subgroup) -> {records, phases, CRITyFL: (responders, assessed)}
    for label, recs in timepoints:
        for by, overall in ((["arm"], True), (["arm", "subgroup"], False)):
            grouped = recs.group_by(by).agg(
                pl.len().alias("records"), pl.col("APHASE").cast(pl.String).drop_nulls().unique().alias("phases"),
                *[(pl.col(c) == "Y").sum().alias(f"{c}_x") for c in crit],
                *[pl.col(c).is_not_null().sum().alias(f"{c}_n") for c in crit])
            for row in grouped.iter_rows(named=True):
                if not overall and row["subgroup"] is None:
                    continue
                counts[(label, row["arm"], OVERALL if overall else row["subgroup"])] = row
    n_subjects = {(r["arm"], OVERALL): r["len"] for r in subjects.group_by("arm").len().iter_rows(named=True)}
    n_subjects |= {(r["arm"], r["subgroup"]): r["len"]
                   for r in subjects.group_by("arm", "subgroup").len().iter_rows(named=True)}
    rows = []
    for arm in sorted(subjects["arm"].drop_nulls().unique().to_list()):
        for group in [OVERALL, *_subtypes(fas, arm)]:
            for label, _ in timepoints:
                seen = counts.get((label, arm, group))
                if seen is None and label != "EOT":
                    continue
                phase = END_OF_TREATMENT if label == "EOT" else timepoint_phase(seen["phases"])
                for ep, c in zip(endpoints, crit):
                    x = seen[f"{c}_x"] if seen else 0
                    n = n_subjects[(arm, group)] if imputation == "NRI" else (seen[f"{c}_n"] if seen else 0)
                    rows.append({"trial_id": trial_id, "arm": arm, "subgroup": group, "endpoint": ep["name"],
                                 "timepoint": label, "phase": phase, **_proportion_row(int(x), int(n)),
                                 "imputation": imputation})
    return pd.DataFrame(rows, columns=columns)


END_OF_TREATMENT, ON_DRUG, OFF_DRUG, MIXED = "end of treatment", "on drug", "off drug", "on and off drug"


def timepoint_phase(phases) -> str:
    """Whether an analysis visit's records were taken on drug, off drug (after the last dose), or both."""
    seen = {p for p in phases if p is not None and p == p}  # p == p: not NaN
    if seen <= {"ON TREATMENT", "PRE-TREATMENT"}:
        return ON_DRUG
    return OFF_DRUG if seen == {"OFF DRUG"} else MIXED


def regrowth_bands_table(trial_id: str, adsl, adsalt) -> pd.DataFrame:
    """Subjects by percent regrowth at end of treatment (FAS; missing counted in the last band)."""
    columns = ["trial_id", "arm", "band", "n", "n_subjects", "pct"]
    eot = read_rows(adsalt, ["USUBJID", "PCHG"], EOT, within=TOTAL_RECORDS, name="adsalt")
    if eot.is_empty() and not has_salt(adsalt):
        return _empty(columns)
    fas = read_rows(adsl, ["USUBJID", "TRT01P"], pl.col("FASFL") == "Y", name="adsl")
    fas, eot = (f.with_columns(pl.col("USUBJID").cast(pl.String)) for f in (fas, eot))
    # one end-of-treatment record per subject (m:1): a second would be an ADSALT defect
    fas = to_pandas(fas.join(eot, on="USUBJID", how="left", validate="m:1", maintain_order="left"))
    rows = []
    for arm, arm_fas in fas.groupby("TRT01P", sort=True):
        regrowth = pd.Series(-at_compare_precision(arm_fas["PCHG"]), index=arm_fas.index)
        taken = pd.Series(False, index=arm_fas.index)
        for label, test in REGROWTH_BANDS:
            member = ~taken if test is None else test(regrowth).fillna(False) & ~taken
            taken |= member
            n, total = int(member.sum()), len(arm_fas)
            rows.append({"trial_id": trial_id, "arm": arm, "band": label, "n": n, "n_subjects": total,
                         "pct": 100 * n / total if total else np.nan})
    return pd.DataFrame(rows, columns=columns)


def relapse_responders(adtte) -> pl.DataFrame:
    """End-of-treatment responders' time-to-relapse records (TTRELAPS): TRT01P, AVAL (days), CNSR,
    and FOLLOWED, whether the responder was assessed off drug (CNSR is not 2). The others carry
    no information on relapse: every relapse estimate (the relapse table, its curves) uses only
    the followed ones."""
    return read_rows(adtte, ["TRT01P", "PARAMCD", "AVAL", "CNSR"], pl.col("PARAMCD") == RELAPSE,
                     name="adtte").with_columns(FOLLOWED=pl.col("CNSR").ne_missing(2))


def relapse_table(trial_id: str, adsl, adtte) -> pd.DataFrame:
    """Kaplan-Meier time to relapse after the last dose among end-of-treatment responders (weeks).

    n_at_risk counts responders with at least one off-drug assessment (the others, CNSR 2,
    carry no information on relapse); n_responders counts all end-of-treatment responders.
    followup_median_weeks and followup_max_weeks: how long those were followed off drug (to
    relapse or to their last off-drug assessment), so that "not reached" can be read.
    """
    columns = ["trial_id", "arm", "n_responders", "n_at_risk", "n_relapsed", "median_weeks", "ci_low", "ci_high",
               "followup_median_weeks", "followup_max_weeks"]
    if not has_rows(adtte, pl.lit(True)):
        return pd.DataFrame([], columns=columns)
    rel = relapse_responders(adtte).with_columns(pl.col("TRT01P").cast(pl.String))
    fas = read_rows(adsl, ["TRT01P"], pl.col("FASFL") == "Y", name="adsl")
    rows = []
    for arm in sorted(fas["TRT01P"].cast(pl.String).drop_nulls().unique().to_list()):
        responders = rel.filter(pl.col("TRT01P") == arm)
        sub = responders.filter("FOLLOWED")
        weeks = sub["AVAL"].to_numpy().astype(float) / 7
        event = (sub["CNSR"] == 0).fill_null(False).to_numpy()
        median, low, high = km_median(weeks, event) if len(sub) else (np.nan,) * 3
        rows.append({"trial_id": trial_id, "arm": arm, "n_responders": len(responders), "n_at_risk": len(sub),
                     "n_relapsed": int(event.sum()), "median_weeks": median,
                     "ci_low": low, "ci_high": high,
                     "followup_median_weeks": float(np.median(weeks)) if len(weeks) else np.nan,
                     "followup_max_weeks": float(weeks.max()) if len(weeks) else np.nan})
    return pd.DataFrame(rows, columns=columns)


# The safety table's summary rows (soc), before the SOC/PT listing
ANY_TEAE, ANY_SERIOUS, LEADING_TO_DISCONTINUATION, DEATHS, AESI = (
    "ANY", "ANY SERIOUS", "LEADING TO DISCONTINUATION", "DEATHS", "AESI")
SUMMARY_SOCS = (ANY_TEAE, ANY_SERIOUS, LEADING_TO_DISCONTINUATION, DEATHS, AESI)
DRUG_WITHDRAWN = "DRUG WITHDRAWN"  # AEACN: action taken with study treatment


UNCODED = "UNCODED"  # an AE record without a system organ class or preferred term
# ADSL EOSSTT of a subject with a disposition event (the others are ONGOING, DS absent included)
ENDED_STATUSES = ("COMPLETED", "DISCONTINUED")


def safety_table(trial_id: str, adsl, adae, aesi: list[dict] | tuple = ()) -> pd.DataFrame:
    """Subjects with treatment-emergent AEs by actual treatment, SOC and PT (safety population).

    A subject counts once per row. The first rows summarise (soc, pt ''): any TEAE ('ANY'), any
    serious TEAE ('ANY SERIOUS'), a TEAE after which the study drug was withdrawn (AEACN
    DRUG WITHDRAWN: 'LEADING TO DISCONTINUATION'; no row where no AE record has an AEACN),
    deaths (ADSL DCSREAS DEATH: 'DEATHS'; no row where no subject has a disposition event, as
    without DS), then one
    row per adverse event of special interest (soc 'AESI', pt its name: a TEAE whose preferred
    term, or system organ class, is one of its lists, matched ignoring case; serious_only
    counts serious ones only; one that names SOCs has no row where no TEAE has a SOC). Then each SOC (pt '') and its PTs, by descending frequency.
    """
    columns = ["trial_id", "arm", "soc", "pt", "n_subjects", "n_arm", "pct"]
    saf = read_rows(adsl, ["USUBJID", "TRT01A"], pl.col("SAFFL") == "Y", optional=["DCSREAS", "EOSSTT"], name="adsl")
    te = read_rows(adae, ["USUBJID", "TRTA", "AESER", "AEBODSYS", "AEDECOD"], pl.col("TRTEMFL") == "Y",
                   optional=["AEACN"], name="adae")
    # not collected (no AEACN in the export, no DS): no row, rather than a count of 0
    action_collected = "AEACN" in te.columns and has_rows(adae, pl.col("AEACN").is_not_null())
    # ADSL says ONGOING for everyone without a disposition event, DS absent included
    soc_coded = te.is_empty() or te["AEBODSYS"].is_not_null().any()  # AEBODSYS is expected, not required
    status_collected = "EOSSTT" in saf.columns and saf["EOSSTT"].cast(pl.String).is_in(ENDED_STATUSES).any()
    saf, te = (f.with_columns(pl.col("USUBJID").cast(pl.String)) for f in (saf, te))
    te = to_pandas(te.join(saf.select("USUBJID"), on="USUBJID", how="semi", maintain_order="left"))
    saf = to_pandas(saf)
    upper = {c: te[c].astype("string").str.upper() for c in ("AEBODSYS", "AEDECOD", "AEACN") if c in te.columns}
    rows = []
    for arm, arm_adsl in saf.groupby("TRT01A", sort=True):
        n_arm = len(arm_adsl)
        in_arm = te["TRTA"] == arm
        arm_te = te[in_arm]

        def row(soc, pt, subjects):
            n = int(subjects.nunique())
            return {"trial_id": trial_id, "arm": arm, "soc": soc, "pt": pt, "n_subjects": n, "n_arm": n_arm,
                    "pct": 100 * n / n_arm if n_arm else np.nan}

        rows.append(row(ANY_TEAE, "", arm_te["USUBJID"]))
        rows.append(row(ANY_SERIOUS, "", arm_te.loc[arm_te["AESER"] == "Y", "USUBJID"]))
        if action_collected:
            withdrawn = (upper["AEACN"] == DRUG_WITHDRAWN).fillna(False).astype(bool)
            rows.append(row(LEADING_TO_DISCONTINUATION, "", te.loc[in_arm & withdrawn, "USUBJID"]))
        if status_collected:
            died = (arm_adsl["DCSREAS"].astype("string").str.upper() == "DEATH").fillna(False).astype(bool)
            rows.append(row(DEATHS, "", arm_adsl.loc[died, "USUBJID"]))
        for event in aesi:
            if event.get("socs") and not soc_coded:  # nothing to match a SOC against: no row, not a 0
                continue
            terms = {t.upper() for t in event.get("preferred_terms", [])}
            socs = {t.upper() for t in event.get("socs", [])}
            hit = in_arm & (upper["AEDECOD"].isin(terms) | upper["AEBODSYS"].isin(socs)).fillna(False).astype(bool)
            if event.get("serious_only"):
                hit &= te["AESER"] == "Y"
            rows.append(row(AESI, event["name"], te.loc[hit, "USUBJID"]))
        if arm_te.empty:
            continue
        socs = arm_te.assign(AEBODSYS=arm_te["AEBODSYS"].fillna(UNCODED), AEDECOD=arm_te["AEDECOD"].fillna(UNCODED))
        soc_counts = socs.groupby("AEBODSYS")["USUBJID"].nunique()
        for soc in sorted(soc_counts.index, key=lambda s: (-soc_counts[s], s)):
            in_soc = socs[socs["AEBODSYS"] == soc]
            rows.append(row(soc, "", in_soc["USUBJID"]))
            pt_counts = in_soc.groupby("AEDECOD")["USUBJID"].nunique()
            for pt in sorted(pt_counts.index, key=lambda p: (-pt_counts[p], p)):
                rows.append(row(soc, pt, in_soc.loc[in_soc["AEDECOD"] == pt, "USUBJID"]))
    return pd.DataFrame(rows, columns=columns)


DEMOGRAPHIC_NUMBERS = (("AGE", "Age (years)"), ("SALTBL", "Baseline SALT"), ("DURDIS", "Disease duration (years)"),
                       ("TRTDURD", "Treatment duration (days)"))
DEMOGRAPHIC_CATEGORIES = (("SEX", "Sex"), ("RACE", "Race"), ("AATYPE", "Alopecia areata subtype"),
                          ("EOSSTT", "End of study status"))


def demographics_table(trial_id: str, adsl) -> pd.DataFrame:
    """Baseline characteristics by planned arm (ITT): one row per characteristic and category."""
    columns = ["trial_id", "arm", "characteristic", "category", "n", "n_arm", "pct", "mean", "sd",
               "median", "min", "max"]
    shown = [v for v, _ in DEMOGRAPHIC_NUMBERS + DEMOGRAPHIC_CATEGORIES]
    itt = to_pandas(read_rows(adsl, ["TRT01P"], pl.col("ITTFL") == "Y", optional=shown, name="adsl"))
    rows = []
    for arm, a in itt.groupby("TRT01P", sort=True):
        n_arm = len(a)
        base = {"trial_id": trial_id, "arm": arm, "n_arm": n_arm}
        for var, label in DEMOGRAPHIC_NUMBERS:
            if var not in a.columns or a[var].notna().sum() == 0:
                continue
            x = a[var].dropna().astype(float)
            rows.append({**base, "characteristic": label, "category": "", "n": len(x), "pct": np.nan,
                         "mean": x.mean(), "sd": x.std(ddof=1) if len(x) > 1 else np.nan,
                         "median": x.median(), "min": x.min(), "max": x.max()})
        for var, label in DEMOGRAPHIC_CATEGORIES:
            if var not in a.columns or a[var].notna().sum() == 0:
                continue
            counts = a[var].fillna("MISSING").value_counts()
            for cat in sorted(counts.index, key=lambda c: (-counts[c], c)):
                n = int(counts[cat])
                rows.append({**base, "characteristic": label, "category": cat, "n": n, "pct": 100 * n / n_arm})
    return pd.DataFrame(rows, columns=columns)


def comparisons_table(efficacy: pd.DataFrame, design: str = "single-arm", control: str | None = None) -> pd.DataFrame:
    """Each active arm of a randomized trial (sheet column design) against its declared control
    arm (sheet column control), per endpoint at EOT (overall): difference in response rate
    (percentage points) with Newcombe's hybrid score 95 % interval. A single-arm trial gives no
    rows, whatever its arms are called; a control arm the trial does not have is an error."""
    columns = ["trial_id", "arm", "control", "endpoint", "timepoint", "n_responders", "n_subjects",
               "control_responders", "control_subjects", "difference", "ci_low", "ci_high"]
    e = efficacy[(efficacy["subgroup"] == OVERALL) & (efficacy["timepoint"] == "EOT")] if len(efficacy) else efficacy
    rows = []
    if design != "randomized":
        return pd.DataFrame(rows, columns=columns)
    for trial_id, t in (e.groupby("trial_id", sort=True) if len(e) else []):
        if control not in set(t["arm"]):
            raise ValueError(f"trial {trial_id}: control arm {control!r} (sheet column control) is not one of its "
                             f"planned arms: {', '.join(sorted(t['arm'].unique()))}")
        for arm in sorted(a for a in t["arm"].unique() if a != control):
            for endpoint in t["endpoint"].unique():
                a = t[(t["arm"] == arm) & (t["endpoint"] == endpoint)].iloc[0]
                c = t[(t["arm"] == control) & (t["endpoint"] == endpoint)].iloc[0]
                d, low, high = newcombe_diff(int(a.n_responders), int(a.n_subjects), int(c.n_responders),
                                             int(c.n_subjects))
                rows.append({"trial_id": trial_id, "arm": arm, "control": control, "endpoint": endpoint,
                             "timepoint": "EOT", "n_responders": int(a.n_responders), "n_subjects": int(a.n_subjects),
                             "control_responders": int(c.n_responders), "control_subjects": int(c.n_subjects),
                             "difference": 100 * d, "ci_low": 100 * low, "ci_high": 100 * high})
    return pd.DataFrame(rows, columns=columns)


NOT_ASSIGNED = "Not assigned (screen failure)"


def disposition_table(trial_id: str, adsl) -> pd.DataFrame:
    """Every DM subject by planned arm and end-of-study status and reason; screen failures
    are counted here (as not assigned) although no analysis population includes them."""
    columns = ["trial_id", "arm", "status", "reason", "n", "n_arm", "pct"]
    adsl = to_pandas(read_rows(adsl, ["TRT01P", "EOSSTT", "DCSREAS"], name="adsl"))
    d = adsl.assign(arm=adsl["TRT01P"].fillna(NOT_ASSIGNED), reason=adsl["DCSREAS"].fillna(""))
    rows = []
    for arm, a in d.groupby("arm", sort=True):
        counts = a.groupby(["EOSSTT", "reason"]).size()
        for (status, reason), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
            rows.append({"trial_id": trial_id, "arm": arm, "status": status, "reason": reason, "n": int(n),
                         "n_arm": len(a), "pct": 100 * n / len(a)})
    return pd.DataFrame(rows, columns=columns)


def summarize_trial_table(table: str, trial_id: str, inputs: dict, **settings) -> pd.DataFrame:
    """Dispatch by table name (the Snakemake wildcard) to the table's builder. `inputs`: the
    analysis tables it reads (SUMMARY_INPUTS in workflow/rules/summarize.smk) by name, each a
    file, a dataset directory or a frame."""
    from regrowth.summarize import figures_data, populations

    adsl = inputs.get("adsl")  # the curves, visit means and best changes read no ADSL
    if table == "efficacy":
        return efficacy_table(trial_id, adsl, inputs["adsalt"], settings["endpoints"], settings["weeks"],
                              settings["imputation"])
    if table == "regrowth_bands":
        return regrowth_bands_table(trial_id, adsl, inputs["adsalt"])
    if table == "relapse":
        return relapse_table(trial_id, adsl, inputs["adtte"])
    if table == "safety":
        return safety_table(trial_id, adsl, inputs["adae"], settings.get("aesi", ()))
    if table == "demographics":
        return demographics_table(trial_id, adsl)
    if table == "disposition":
        return disposition_table(trial_id, adsl)
    if table == "comparisons":
        eff = efficacy_table(trial_id, adsl, inputs["adsalt"], settings["endpoints"], [], settings["imputation"])
        return comparisons_table(eff, settings.get("design", "single-arm"), settings.get("control"))
    if table == "comparison_subjects":
        from regrowth.summarize.subjects import comparison_subjects_table

        return comparison_subjects_table(trial_id, adsl, inputs["adsalt"], settings["endpoints"], settings["imputation"])
    if table == "km_curves":
        return figures_data.km_curves_table(trial_id, inputs["adtte"], settings.get("imputation", "NRI"))
    if table == "salt_by_visit":
        return figures_data.salt_by_visit_table(trial_id, inputs["adsalt"])
    if table == "best_change":
        return figures_data.best_change_table(trial_id, inputs["adsalt"])
    if table == "populations":
        return populations.populations_table(trial_id, adsl, inputs["adsalt"])
    if table == "denominators":
        return populations.denominators_table(trial_id, adsl, inputs["adsalt"], inputs["validation"])
    raise ValueError(f"unknown summary table {table!r}")


def summarize_trial_tables(tables: list[str], trial_id: str, inputs: dict, settings: dict) -> dict[str, pd.DataFrame]:
    """summarize_trial_table for each of `tables` (`settings`: by table). A job given ADSALT for
    more than one table reads its total-score records once for all (select.read_subset: the
    analysed columns but PARAMCD, which is SALT on every one of them)."""
    if len(tables) > 1 and inputs.get("adsalt") is not None:
        from regrowth.derive.salt import analysed_columns
        from regrowth.summarize.select import read_subset

        def kept(names: list[str]) -> list[str]:
            return [c for c in analysed_columns(names) if c != "PARAMCD"]

        inputs = {**inputs, "adsalt": read_subset(inputs["adsalt"], TOTAL_RECORDS, kept, name="adsalt")}
    return {t: summarize_trial_table(t, trial_id, inputs, **settings.get(t, {})) for t in tables}


def combine_trials(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The trials' tables of one summary as one (trial order kept). A trial without rows adds
    none (its empty table is typed as text): the first part stands for all when every one is."""
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
