"""The cross-trial summary tables. Denominators always come from ADSL population flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.derive.salt import TOTAL, read_total_salt
from regrowth.frames import isin, require_columns, select_rows
from regrowth.parquet_io import read_table
from regrowth.rounding import at_compare_precision
from regrowth.summarize.stats import clopper_pearson, km_median, newcombe_diff

OVERALL = "Overall"
REGROWTH_BANDS = [  # (label, test on percent regrowth = -PCHG at end of treatment)
    (">95%", lambda r: r > 95),
    ("50-95%", lambda r: (r >= 50) & (r <= 95)),
    ("5-<50%", lambda r: (r >= 5) & (r < 50)),
    ("<5% or not assessed", None),  # the rest, missing included (non-responder imputation)
]


def _proportion_row(x: int, n: int) -> dict:
    low, high = clopper_pearson(x, n)
    return {"n_responders": x, "n_subjects": n, "pct": 100 * x / n if n else np.nan,
            "ci_low": 100 * low, "ci_high": 100 * high}


def _subgroups(adsl: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    groups = [(OVERALL, pd.Series(True, index=adsl.index))]
    if "AATYPE" in adsl.columns:
        for subtype in sorted(adsl["AATYPE"].dropna().unique()):
            groups.append((subtype, adsl["AATYPE"] == subtype))
    return groups


def adsalt_selection(table: str, endpoints: list[dict] = (), weeks: list[int] = (), **_) -> dict:
    """What summary `table` reads of ADSALT: read_table's columns and row filters (total SALT
    records only). A large trial's ADSALT is millions of records; regrowth bands and comparisons
    use only the end-of-treatment ones (a tenth), efficacy only those at its timepoints. The
    builders select the same rows again, so a table made from the whole of ADSALT is the same."""
    crit = [f"CRIT{y}FL" for y in range(1, len(endpoints) + 1)]
    total = ("PARAMCD", "==", TOTAL)
    eot = [total, ("EOTFL", "==", "Y")]
    if table == "efficacy":
        rows = [eot]
        if weeks:
            rows.append([total, ("ANL01FL", "==", "Y"), ("AVISITN", "in", [float(w) for w in weeks])])
        return {"columns": ["USUBJID", "PARAMCD", "ANL01FL", "EOTFL", "AVISITN", "APHASE", *crit], "filters": rows}
    if table == "comparisons":
        return {"columns": ["USUBJID", "PARAMCD", "ANL01FL", "EOTFL", "AVISITN", "APHASE", *crit], "filters": eot}
    if table == "regrowth_bands":
        return {"columns": ["USUBJID", "PARAMCD", "EOTFL", "PCHG"], "filters": eot}
    raise ValueError(f"summary table {table!r} reads no ADSALT")


def read_adsalt_for(table: str, path, **settings) -> pd.DataFrame:
    """ADSALT as summary `table` reads it (adsalt_selection). When no record is selected, all
    total records: the builders tell a trial without SALT data (empty ADSALT) from one without
    records at their visits, and must see the same either way."""
    selected = read_table(path, **adsalt_selection(table, **settings))
    return selected if len(selected) else read_total_salt(path)


def efficacy_table(trial_id: str, adsl: pd.DataFrame, adsalt: pd.DataFrame, endpoints: list[dict],
                   weeks: list[int], imputation: str) -> pd.DataFrame:
    """Responder rates by arm, endpoint and timepoint (EOT and configured weeks), FAS.

    imputation 'NRI': every FAS subject is in the denominator; missing = non-responder.
    'observed': only subjects with an analysed value at that visit are counted.
    """
    columns = ["trial_id", "arm", "subgroup", "endpoint", "timepoint", "phase", "n_responders", "n_subjects",
               "pct", "ci_low", "ci_high", "imputation"]
    if adsalt.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    require_columns(adsl, ["USUBJID", "TRT01P", "FASFL"], "efficacy_table")
    fas = adsl[adsl["FASFL"] == "Y"]
    used = ["USUBJID", "EOTFL", "AVISITN", "APHASE", *[f"CRIT{y}FL" for y in range(1, len(endpoints) + 1)]]
    # the end-of-treatment record need not be an analysed visit (no planned EOT week: the last
    # on-treatment assessment), the others are
    total = adsalt["PARAMCD"] == TOTAL
    eot = select_rows(adsalt, total & (adsalt["EOTFL"] == "Y"), used)
    analysed = select_rows(adsalt, total & (adsalt["ANL01FL"] == "Y"), used)
    timepoints = [("EOT", eot)] + [(f"W{w}", analysed[analysed["AVISITN"] == w]) for w in weeks]
    rows = []
    for arm, arm_adsl in fas.groupby("TRT01P", sort=True):
        for subgroup, mask in _subgroups(arm_adsl):
            subjects = arm_adsl.loc[mask, "USUBJID"]
            for label, records in timepoints:
                recs = records[isin(records["USUBJID"], subjects)]
                if recs.empty and label != "EOT":
                    continue
                phase = END_OF_TREATMENT if label == "EOT" else timepoint_phase(recs["APHASE"])
                for y, ep in enumerate(endpoints, start=1):
                    flag = recs.set_index("USUBJID")[f"CRIT{y}FL"]
                    x = int((flag == "Y").sum())
                    n = len(subjects) if imputation == "NRI" else int(flag.notna().sum())
                    rows.append({"trial_id": trial_id, "arm": arm, "subgroup": subgroup, "endpoint": ep["name"],
                                 "timepoint": label, "phase": phase, **_proportion_row(x, n),
                                 "imputation": imputation})
    return pd.DataFrame(rows, columns=columns)


END_OF_TREATMENT, ON_DRUG, OFF_DRUG, MIXED = "end of treatment", "on drug", "off drug", "on and off drug"


def timepoint_phase(phases: pd.Series) -> str:
    """Whether an analysis visit's records were taken on drug, off drug (after the last dose), or both."""
    seen = set(phases.dropna())
    if seen <= {"ON TREATMENT", "PRE-TREATMENT"}:
        return ON_DRUG
    return OFF_DRUG if seen == {"OFF DRUG"} else MIXED


def regrowth_bands_table(trial_id: str, adsl: pd.DataFrame, adsalt: pd.DataFrame) -> pd.DataFrame:
    """Subjects by percent regrowth at end of treatment (FAS; missing counted in the last band)."""
    columns = ["trial_id", "arm", "band", "n", "n_subjects", "pct"]
    if adsalt.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    fas = adsl[adsl["FASFL"] == "Y"]
    eot = select_rows(adsalt, (adsalt["PARAMCD"] == TOTAL) & (adsalt["EOTFL"] == "Y"), ["USUBJID", "PCHG"])
    eot = eot.set_index("USUBJID")["PCHG"]
    rows = []
    for arm, arm_adsl in fas.groupby("TRT01P", sort=True):
        regrowth = pd.Series(-at_compare_precision(arm_adsl["USUBJID"].map(eot)), index=arm_adsl.index)
        taken = pd.Series(False, index=arm_adsl.index)
        for label, test in REGROWTH_BANDS:
            member = ~taken if test is None else test(regrowth).fillna(False) & ~taken
            taken |= member
            n, total = int(member.sum()), len(arm_adsl)
            rows.append({"trial_id": trial_id, "arm": arm, "band": label, "n": n, "n_subjects": total,
                         "pct": 100 * n / total if total else np.nan})
    return pd.DataFrame(rows, columns=columns)


def relapse_table(trial_id: str, adsl: pd.DataFrame, adtte: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier time to relapse after the last dose among end-of-treatment responders (weeks).

    n_at_risk counts responders with at least one off-drug assessment (the others, CNSR 2,
    carry no information on relapse); n_responders counts all end-of-treatment responders.
    """
    columns = ["trial_id", "arm", "n_responders", "n_at_risk", "n_relapsed", "median_weeks", "ci_low", "ci_high"]
    rel = adtte[adtte["PARAMCD"] == "TTRELAPS"] if not adtte.empty else adtte
    rows = []
    arms = sorted(adsl.loc[adsl["FASFL"] == "Y", "TRT01P"].dropna().unique()) if not adtte.empty else []
    for arm in arms:
        responders = rel[rel["TRT01P"] == arm]
        sub = responders[responders["CNSR"] != 2]
        weeks = sub["AVAL"].to_numpy(dtype=float) / 7
        median, low, high = km_median(weeks, sub["CNSR"].to_numpy() == 0) if len(sub) else (np.nan,) * 3
        rows.append({"trial_id": trial_id, "arm": arm, "n_responders": len(responders), "n_at_risk": len(sub),
                     "n_relapsed": int((sub["CNSR"] == 0).sum()), "median_weeks": median,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=columns)


def safety_table(trial_id: str, adsl: pd.DataFrame, adae: pd.DataFrame) -> pd.DataFrame:
    """Subjects with treatment-emergent AEs by actual treatment, SOC and PT (safety population).

    A subject counts once per SOC and once per PT; one row per SOC has pt '' (empty);
    the first rows count subjects with any TEAE (soc 'ANY') and any serious TEAE
    (soc 'ANY SERIOUS'). Sorted by descending frequency.
    """
    columns = ["trial_id", "arm", "soc", "pt", "n_subjects", "n_arm", "pct"]
    saf = adsl[adsl["SAFFL"] == "Y"]
    te = adae[(adae["TRTEMFL"] == "Y") & isin(adae["USUBJID"], saf["USUBJID"])] if not adae.empty else adae
    rows = []
    for arm, arm_adsl in saf.groupby("TRT01A", sort=True):
        n_arm = len(arm_adsl)
        arm_te = te[te["TRTA"] == arm] if not te.empty else te

        def row(soc, pt, subjects):
            n = int(subjects.nunique())
            return {"trial_id": trial_id, "arm": arm, "soc": soc, "pt": pt, "n_subjects": n, "n_arm": n_arm,
                    "pct": 100 * n / n_arm if n_arm else np.nan}

        none = pd.Series(dtype="str")
        rows.append(row("ANY", "", arm_te["USUBJID"] if not arm_te.empty else none))
        serious = arm_te.loc[arm_te["AESER"] == "Y", "USUBJID"] if not arm_te.empty else none
        rows.append(row("ANY SERIOUS", "", serious))
        if arm_te.empty:
            continue
        socs = arm_te.assign(AEBODSYS=arm_te["AEBODSYS"].fillna("UNCODED"), AEDECOD=arm_te["AEDECOD"].fillna("UNCODED"))
        soc_counts = socs.groupby("AEBODSYS")["USUBJID"].nunique()
        for soc in sorted(soc_counts.index, key=lambda s: (-soc_counts[s], s)):
            in_soc = socs[socs["AEBODSYS"] == soc]
            rows.append(row(soc, "", in_soc["USUBJID"]))
            pt_counts = in_soc.groupby("AEDECOD")["USUBJID"].nunique()
            for pt in sorted(pt_counts.index, key=lambda p: (-pt_counts[p], p)):
                rows.append(row(soc, pt, in_soc.loc[in_soc["AEDECOD"] == pt, "USUBJID"]))
    return pd.DataFrame(rows, columns=columns)


def demographics_table(trial_id: str, adsl: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by planned arm (ITT): one row per characteristic and category."""
    columns = ["trial_id", "arm", "characteristic", "category", "n", "n_arm", "pct", "mean", "sd",
               "median", "min", "max"]
    itt = adsl[adsl["ITTFL"] == "Y"]
    rows = []
    for arm, a in itt.groupby("TRT01P", sort=True):
        n_arm = len(a)
        base = {"trial_id": trial_id, "arm": arm, "n_arm": n_arm}
        for var, label in (("AGE", "Age (years)"), ("SALTBL", "Baseline SALT"), ("DURDIS", "Disease duration (years)"),
                           ("TRTDURD", "Treatment duration (days)")):
            if var not in a.columns or a[var].notna().sum() == 0:
                continue
            x = a[var].dropna().astype(float)
            rows.append({**base, "characteristic": label, "category": "", "n": len(x), "pct": np.nan,
                         "mean": x.mean(), "sd": x.std(ddof=1) if len(x) > 1 else np.nan,
                         "median": x.median(), "min": x.min(), "max": x.max()})
        for var, label in (("SEX", "Sex"), ("RACE", "Race"), ("AATYPE", "Alopecia areata subtype"),
                           ("EOSSTT", "End of study status")):
            if var not in a.columns or a[var].notna().sum() == 0:
                continue
            counts = a[var].fillna("MISSING").value_counts()
            for cat in sorted(counts.index, key=lambda c: (-counts[c], c)):
                n = int(counts[cat])
                rows.append({**base, "characteristic": label, "category": cat, "n": n, "pct": 100 * n / n_arm})
    return pd.DataFrame(rows, columns=columns)


PLACEBO = "placebo"


def comparisons_table(efficacy: pd.DataFrame) -> pd.DataFrame:
    """Each active arm against placebo, per endpoint at EOT (overall): difference in response
    rate (percentage points) with Newcombe's hybrid score 95 % interval. Trials without a
    placebo arm give no rows."""
    columns = ["trial_id", "arm", "control", "endpoint", "timepoint", "n_responders", "n_subjects",
               "control_responders", "control_subjects", "difference", "ci_low", "ci_high"]
    e = efficacy[(efficacy["subgroup"] == OVERALL) & (efficacy["timepoint"] == "EOT")] if len(efficacy) else efficacy
    rows = []
    for trial_id, t in (e.groupby("trial_id", sort=True) if len(e) else []):
        controls = sorted(a for a in t["arm"].unique() if PLACEBO in a.lower())
        if not controls:
            continue
        control = controls[0]
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


def disposition_table(trial_id: str, adsl: pd.DataFrame) -> pd.DataFrame:
    """Every DM subject by planned arm and end-of-study status and reason; screen failures
    are counted here (as not assigned) although no analysis population includes them."""
    columns = ["trial_id", "arm", "status", "reason", "n", "n_arm", "pct"]
    require_columns(adsl, ["TRT01P", "EOSSTT", "DCSREAS"], "disposition_table")
    d = adsl.assign(arm=adsl["TRT01P"].fillna(NOT_ASSIGNED), reason=adsl["DCSREAS"].fillna(""))
    rows = []
    for arm, a in d.groupby("arm", sort=True):
        counts = a.groupby(["EOSSTT", "reason"]).size()
        for (status, reason), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
            rows.append({"trial_id": trial_id, "arm": arm, "status": status, "reason": reason, "n": int(n),
                         "n_arm": len(a), "pct": 100 * n / len(a)})
    return pd.DataFrame(rows, columns=columns)


def summarize_trial_table(table: str, trial_id: str, adam: dict[str, pd.DataFrame], **settings) -> pd.DataFrame:
    """Dispatch by table name (the Snakemake wildcard) to the table's builder."""
    adsl = adam["adsl"]
    if table == "efficacy":
        return efficacy_table(trial_id, adsl, adam["adsalt"], settings["endpoints"], settings["weeks"],
                              settings["imputation"])
    if table == "regrowth_bands":
        return regrowth_bands_table(trial_id, adsl, adam["adsalt"])
    if table == "relapse":
        return relapse_table(trial_id, adsl, adam["adtte"])
    if table == "safety":
        return safety_table(trial_id, adsl, adam["adae"])
    if table == "demographics":
        return demographics_table(trial_id, adsl)
    if table == "disposition":
        return disposition_table(trial_id, adsl)
    if table == "comparisons":
        eff = efficacy_table(trial_id, adsl, adam["adsalt"], settings["endpoints"], [], settings["imputation"])
        return comparisons_table(eff)
    raise ValueError(f"unknown summary table {table!r}")
