"""Assemble the report: tables and figures into one self-contained HTML file.

Everything from the exports (subject ids, AE terms, labels) goes through Jinja2 autoescaping,
so it is shown as text and never executed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from regrowth.report import figures
from regrowth.rounding import format_half_up
from regrowth.summarize.stats import clopper_pearson
from regrowth.summarize.tables import (AESI, ANY_SERIOUS, ANY_TEAE, DEATHS, LEADING_TO_DISCONTINUATION,
                                      ENDED_STATUSES, NOT_ASSIGNED, SUMMARY_SOCS,
                                      UNCODED)

INFECTIONS = "Infections and infestations"


@dataclass
class TrialData:
    trial_id: str
    label: str
    fmt: str
    eot_week: int | None
    validation: pd.DataFrame
    inputs: pd.DataFrame
    data_cut: str | None = None
    policy: str = "strict"
    accounting: pd.DataFrame | None = None
    simulated: bool = False
    eot_rule: str = ""  # how end of treatment is defined for this trial (eot_description)

    @property
    def domains(self) -> set[str] | None:
        """The SDTM domains the export delivered (from its file records); None when not known."""
        if self.inputs is None or "domains" not in getattr(self.inputs, "columns", []):
            return None
        return set(" ".join(self.inputs["domains"].dropna().astype(str)).upper().split())

    def lacks(self, domain: str) -> bool:
        """The export delivered no `domain` dataset (known from its file records)."""
        return self.domains is not None and domain not in self.domains


NOT_AVAILABLE = "not available"
NO_AE_DATASET = f"{NOT_AVAILABLE} (no AE dataset)"
NO_DISPOSITION_EVENTS = f"{NOT_AVAILABLE} (no disposition events)"


def eot_description(eot_week: int | None, definitions: dict) -> str:
    """The end-of-treatment rule in force for a trial (derive_var_eotfl)."""
    if eot_week is not None:
        return f"week {eot_week} (planned)"
    window = definitions.get("end_of_treatment", {}).get("window_days_after_last_dose", 14)
    return f"last on-treatment assessment (up to {window} days after the last dose)"


def denominator_notes(t: TrialData, counts: dict) -> list[str]:
    """Where a fallback or quarantine changed who is counted: said beside the numbers. `counts`:
    the trial's row of the denominators table."""
    v, notes = t.validation, []
    rules = set(v["rule_id"]) if len(v) else set()
    for domain, what in (("AE", "adverse events are"), ("DS", "end-of-study status and disposition are")):
        if t.lacks(domain):
            notes.append(f"The export has no {domain} dataset: {what} not available"
                         + (" (ADSL says ONGOING for every subject)." if domain == "DS" else "."))
    if counts["n_partial_first_dose"]:
        notes.append(f"{int(counts['n_partial_first_dose'])} subject(s) have a partial first-dose date, imputed to "
                     "the first day of its period (TRTSDTF): their baseline and study days depend on that imputation.")
    if "RG0010" in rules:
        notes.append("The export has no EX dataset: first and last dose come from DM RFXSTDTC/RFXENDTC.")
    if "RG0011" in rules:
        notes.append("The export has no exposure data (no EX dataset, no DM RFXSTDTC): no subject has treatment "
                     "dates, so safety and efficacy are not available.")
    if t.policy != "quarantine" or not len(v):
        return notes
    if n := counts["n_dm_errors"]:
        notes.append(f"{n} subject(s) left out of every table: their DM record was quarantined.")
    if n := counts["n_ex_errors_not_safety"]:
        notes.append(f"{n} subject(s) not in the safety population because their exposure records "
                     "were quarantined: the safety N is that much smaller, and so is the FAS.")
    if n := counts["n_rs_errors_not_fas"]:
        notes.append(f"{n} treated subject(s) not in the FAS because SALT records were "
                     "quarantined: the efficacy N is that much smaller.")
    if n := counts["n_rs_errors_other"]:
        notes.append(f"{n} FAS subject(s) had SALT records quarantined: a missing "
                     f"assessment counts as non-response under NRI, so their responses may be undercounted.")
    for domain, what in (("ae", "adverse-event records are not counted in the safety tables"),
                         ("mh", "medical-history records are not used (subtype, disease duration)")):
        if n := counts[f"n_{domain}_errors"]:
            notes.append(f"{n} subject(s) had {domain.upper()} records quarantined: those {what}.")
    return notes


def _of_trial(table: pd.DataFrame, trial_id: str) -> pd.DataFrame:
    return table[table["trial_id"] == trial_id] if len(table) else table


def _counts_by_trial(denominators: pd.DataFrame, trials: list[TrialData]) -> dict[str, dict]:
    """Each trial's row of the denominators table (one per trial, by summarize)."""
    rows = {r["trial_id"]: r for r in denominators.to_dict("records")}
    missing = [t.trial_id for t in trials if t.trial_id not in rows]
    if missing:
        raise ValueError(f"denominators table: no row for trial(s) {', '.join(missing)}: rerun the summaries")
    return rows


def pct(x) -> str:
    return format_half_up(x, 1)


def n_pct(n, total) -> str:
    if not total:  # a rate over nobody is not 0 %
        return NOT_AVAILABLE
    return f"{int(n)} ({format_half_up(100 * n / total, 1)}%)"


def ci(low, high, digits=1) -> str:
    if low is None or (isinstance(low, float) and np.isnan(low)):
        return "–"
    hi = "NR" if high is None or (isinstance(high, float) and np.isnan(high)) else format_half_up(high, digits)
    return f"{format_half_up(low, digits)} – {hi}"


def _arm_columns(table: pd.DataFrame, last: str | None = None) -> tuple[list[tuple[str, str]], list[dict]]:
    """The (trial, arm) pairs of a summary table in its order, the arm named `last` moved to the
    end of its trial, and a column per pair with the arm's N (n_arm)."""
    trials = {t: k for k, t in enumerate(dict.fromkeys(table["trial_id"]))}
    arms = sorted(dict.fromkeys(zip(table["trial_id"], table["arm"])), key=lambda ta: (trials[ta[0]], ta[1] == last))
    n_of = {(r["trial_id"], r["arm"]): int(r["n_arm"]) for r in table.to_dict("records")}
    return arms, [{"trial_id": t, "arm": a, "n": n_of[(t, a)]} for t, a in arms]


def _safety_overview(safety: pd.DataFrame, aesi_names: list[str], no_ae: set[str] = frozenset()
                     ) -> tuple[list[dict], list[dict]]:
    """(columns, rows) of the safety overview: a column per trial arm (actual treatment, its
    safety N), a row per summary count (any, serious, leading to discontinuation, deaths) and per
    adverse event of special interest."""
    if not len(safety):
        return [], []
    summary = safety[safety["soc"].isin(SUMMARY_SOCS)]
    arms, columns = _arm_columns(summary)
    cell = {(r["trial_id"], r["arm"], r["soc"], r["pt"]): (NO_AE_DATASET if r["trial_id"] in no_ae
                                                           else n_pct(r["n_subjects"], r["n_arm"]))
            for r in summary.to_dict("records")}
    labels = [(ANY_TEAE, "", "Any TEAE"), (ANY_SERIOUS, "", "Serious TEAE"),
              (LEADING_TO_DISCONTINUATION, "", "TEAE leading to discontinuation of study drug"),
              (DEATHS, "", "Deaths (end of study: death)")]
    aesi = list(dict.fromkeys([*aesi_names, *summary.loc[summary["soc"] == AESI, "pt"]]))  # configured, also where absent
    absent = {LEADING_TO_DISCONTINUATION: f"{NOT_AVAILABLE} (no AEACN in the AE data)",
              DEATHS: NO_DISPOSITION_EVENTS}
    rows = [{"label": label, "aesi": False, "cells": [cell.get((t, a, soc, pt), absent.get(soc, "")) for t, a in arms]}
            for soc, pt, label in labels]
    rows += [{"label": name, "aesi": True,
              "cells": [cell.get((t, a, AESI, name), f"{NOT_AVAILABLE} (no system organ class in the AE data)")
                        for t, a in arms]} for name in aesi]
    return columns, rows


STATUS_ORDER = [*ENDED_STATUSES, "ONGOING"]


def _disposition_matrix(disposition: pd.DataFrame, no_ds: set[str] = frozenset()) -> tuple[list[dict], list[dict]]:
    """(columns, rows) of the disposition table: a column per trial and planned arm (screen
    failures as their own column, last in their trial, every DM subject in its N), a row per
    end-of-study status (completed, discontinued, ongoing, then others) with its reasons indented
    below by descending frequency. A trial without a DS dataset, or whose DS holds no disposition
    event (no subject completed or discontinued), is not available, not 100 % ongoing."""
    if not len(disposition):
        return [], []
    arms, columns = _arm_columns(disposition, last=NOT_ASSIGNED)
    n_of = {(c["trial_id"], c["arm"]): c["n"] for c in columns}
    by_status = disposition.groupby(["trial_id", "arm", "status"])["n"].sum().to_dict()
    by_reason = disposition.groupby(["trial_id", "arm", "status", "reason"])["n"].sum().to_dict()
    statuses = sorted(set(disposition["status"]), key=lambda s: (STATUS_ORDER.index(s) if s in STATUS_ORDER else 9, s))

    # ADSL says ONGOING for everyone without a disposition event: with none at all, not collected
    ended = set(disposition.loc[disposition["status"].isin(ENDED_STATUSES), "trial_id"])

    def cells(count):
        return [f"{NOT_AVAILABLE} (no DS dataset)" if t in no_ds else
                NO_DISPOSITION_EVENTS if t not in ended else n_pct(count(t, a), n_of[(t, a)])
                for t, a in arms]

    rows = []
    for status in statuses:
        rows.append({"label": str(status).capitalize(), "head": True,
                     "cells": cells(lambda t, a: by_status.get((t, a, status), 0))})
        of_status = disposition[(disposition["status"] == status) & (disposition["reason"] != "")]
        totals = of_status.groupby("reason")["n"].sum()
        for reason in sorted(totals.index, key=lambda r: (-totals[r], r)):
            rows.append({"label": reason, "head": False,
                         "cells": cells(lambda t, a: by_reason.get((t, a, status, reason), 0))})
    return columns, rows


def _soc_pt_matrix(safety: pd.DataFrame, columns: list[dict], no_ae: set[str] = frozenset()) -> list[dict]:
    """The TEAE table as clinical tables set it: a row per system organ class, its preferred terms
    indented below, a column per trial arm (the overview's columns). Terms match across trials
    ignoring case (shown as the first column's spelling). SOCs, and PTs within a SOC, by
    descending highest percentage in any arm (then name). An arm without the term counts 0; a
    trial without an AE dataset, or whose AE records carry no SOC (no PT), is not available in
    the SOC (PT) rows."""
    listing = safety[~safety["soc"].isin(SUMMARY_SOCS)] if len(safety) else safety
    if not len(listing):
        return []
    listing = listing.assign(soc_key=listing["soc"].str.upper(), pt_key=listing["pt"].str.upper())
    arms = [(c["trial_id"], c["arm"]) for c in columns]
    n_of = {(c["trial_id"], c["arm"]): c["n"] for c in columns}
    found = {(r["trial_id"], r["arm"], r["soc_key"], r["pt_key"]): int(r["n_subjects"]) for r in listing.to_dict("records")}
    shown = listing.drop_duplicates(["soc_key", "pt_key"]).set_index(["soc_key", "pt_key"])
    top = listing.groupby(["soc_key", "pt_key"], sort=False)["pct"].max()
    # a trial whose every record lacks a SOC (or a PT) cannot say 0 for any SOC (or PT)
    socs_of = listing[listing["pt"] == ""].groupby("trial_id")["soc_key"].agg(set)
    pts_of = listing[listing["pt"] != ""].groupby("trial_id")["pt_key"].agg(set)
    no_soc = {t for t, socs in socs_of.items() if socs == {UNCODED}}
    no_pt = {t for t, pts in pts_of.items() if pts == {UNCODED}}

    def cell(t, a, soc_key, pt_key):
        if t in no_ae:
            return NO_AE_DATASET
        if t in no_soc and soc_key != UNCODED:
            return f"{NOT_AVAILABLE} (no system organ class in the AE data)"
        if t in no_pt and pt_key not in ("", UNCODED):
            return f"{NOT_AVAILABLE} (no preferred term in the AE data)"
        return n_pct(found.get((t, a, soc_key, pt_key), 0), n_of[(t, a)])

    rows = []
    soc_keys = [k for k, pt in top.index if pt == ""]
    for soc_key in sorted(soc_keys, key=lambda k: (-top[(k, "")], k)):
        pt_keys = [pt for k, pt in top.index if k == soc_key and pt != ""]
        for pt_key in ["", *sorted(pt_keys, key=lambda p: (-top[(soc_key, p)], p))]:
            label = shown.loc[(soc_key, pt_key)]
            rows.append({"soc": label["soc"], "pt": label["pt"],
                         "cells": [cell(t, a, soc_key, pt_key) for t, a in arms]})
    return rows


def _summary_rows(trials, counts, populations, efficacy, relapse, safety, bands=None,
                  aesi_names: list[str] = ()) -> list[dict]:
    rows = []
    for t in trials:
        no_salt = counts[t.trial_id]["n_salt_subjects"] == 0
        no_ae = t.lacks("AE")
        for p in _of_trial(populations, t.trial_id).itertuples():
            arm, fas_n = p.arm, int(p.n_fas)
            eff = efficacy[(efficacy["trial_id"] == t.trial_id) & (efficacy["arm"] == arm)
                           & (efficacy["subgroup"] == "Overall") & (efficacy["timepoint"] == "EOT")]

            def resp(endpoint):
                r = eff[eff["endpoint"] == endpoint]
                if no_salt:
                    return "no SALT assessments"
                if r.empty or not r.iloc[0].n_subjects:
                    why = "no subject in the FAS" if fas_n == 0 else "no one assessed at end of treatment"
                    return f"{NOT_AVAILABLE} ({why})"
                r = r.iloc[0]
                return f"{int(r.n_responders)}/{int(r.n_subjects)} ({pct(r.pct)}%) [{ci(r.ci_low, r.ci_high)}]"

            rel = relapse[(relapse["trial_id"] == t.trial_id) & (relapse["arm"] == arm)]
            if rel.empty or rel.iloc[0].n_responders == 0:
                relapse_text = "no responder at end of treatment"
            elif rel.iloc[0].n_at_risk == 0:
                relapse_text = "no off-drug follow-up"
            else:
                r = rel.iloc[0]
                med = "not reached" if np.isnan(r.median_weeks) else f"{format_half_up(r.median_weeks, 1)} wk"
                relapse_text = (f"{int(r.n_relapsed)}/{int(r.n_at_risk)} relapsed; median {med} "
                                f"[95% CI {ci(r.ci_low, r.ci_high)} wk] after the last dose; followed off drug for "
                                f"a median {format_half_up(r.followup_median_weeks, 1)} wk "
                                f"(up to {format_half_up(r.followup_max_weeks, 1)} wk)")
            saf = safety[(safety["trial_id"] == t.trial_id) & (safety["arm"] == arm)]
            n_saf = int(saf["n_arm"].iloc[0]) if not saf.empty else int(p.n_saf_actual)
            any_te = saf[saf["soc"] == ANY_TEAE]["n_subjects"].sum()
            infections = saf[(saf["soc"].str.upper() == INFECTIONS.upper()) & (saf["pt"] == "")]["n_subjects"].sum()
            listed = saf[~saf["soc"].isin(SUMMARY_SOCS)]
            soc_coded = listed.empty or (listed["soc"] != "UNCODED").any()  # no AEBODSYS: no SOC count is a 0
            serious = saf[saf["soc"] == ANY_SERIOUS]["n_subjects"].sum()
            stopped_rows = saf[saf["soc"] == LEADING_TO_DISCONTINUATION]
            aesi = [f"{r.pt} {n_pct(r.n_subjects, n_saf)}" for r in saf[(saf["soc"] == AESI)
                                                                          & (saf["n_subjects"] > 0)].itertuples()]
            missing = [n for n in aesi_names if n not in set(saf.loc[saf["soc"] == AESI, "pt"])]
            if missing:
                aesi.append(f"{NOT_AVAILABLE}: {', '.join(missing)} (no system organ class in the AE data)")
            band = (bands[(bands["trial_id"] == t.trial_id) & (bands["arm"] == arm) & (bands["band"] == ">95%")]
                    if bands is not None and len(bands) else pd.DataFrame())
            if no_salt:
                complete = "no SALT assessments"
            elif band.empty or not band.iloc[0].n_subjects:
                complete = NOT_AVAILABLE
            else:
                b = band.iloc[0]
                low, high = (100 * v for v in clopper_pearson(int(b.n), int(b.n_subjects)))
                complete = f"{int(b.n)}/{int(b.n_subjects)} ({pct(b.pct)}%) [{ci(low, high)}]"
            rows.append({
                "trial": t.label, "trial_id": t.trial_id, "arm": arm, "simulated": t.simulated, "eot": t.eot_rule,
                "n": fas_n, "n_saf": n_saf,
                "salt50": resp("SALT50"), "saltle20": resp("SALTLE20"), "complete": complete, "relapse": relapse_text,
                "any_teae": n_pct(any_te, n_saf), "serious": n_pct(serious, n_saf),
                "infections": (n_pct(infections, n_saf) if soc_coded
                               else f"{NOT_AVAILABLE} (no system organ class in the AE data)"), "stopped": (n_pct(stopped_rows["n_subjects"].sum(), n_saf) if len(stopped_rows)
                            else f"{NOT_AVAILABLE} (no action taken with study treatment, AEACN, in the AE data)"),
                "aesi": "; ".join(aesi) if aesi else "none" if aesi_names else "none configured (definitions.aesi)",
                **({k: NO_AE_DATASET for k in ("any_teae", "serious", "infections", "stopped",
                                                                    "aesi")}
                   if no_ae else {}),
            })
    return rows


def endpoint_labels(endpoints: list[dict]) -> dict[str, str]:
    """Each configured endpoint's name as a reader says it: SALT ≤ 20 for AVAL <= 20, SALT50
    (≥ 50 % improvement) for PCHG <= -50; others by their definition."""
    symbols = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}
    out = {}
    for e in endpoints:
        op, value = e["operator"], float(e["value"])
        if e["variable"] == "AVAL":
            out[e["name"]] = f"SALT {symbols.get(op, op)} {value:g}"
        elif e["variable"] == "PCHG" and op in ("<=", "<") and value < 0:
            out[e["name"]] = f"{e['name']} ({'≥' if op == '<=' else '>'} {-value:g} % improvement)"
        else:
            out[e["name"]] = f"{e['name']} ({e['variable']} {symbols.get(op, op)} {value:g})"
    return out


SEX_TERMS = {"F": "Female", "M": "Male", "U": "Unknown", "UNDIFFERENTIATED": "Undifferentiated"}
CATEGORY_ORDER = {"Sex": ["Female", "Male", "Undifferentiated", "Unknown"]}


def _design_caveat(trials: list[TrialData], populations: pd.DataFrame) -> str:
    """The cross-trial caveat's first sentence, from the trials shown (arms per trial)."""
    arms = [len(_of_trial(populations, t.trial_id)) for t in trials]
    single, multi = sum(a <= 1 for a in arms), sum(a > 1 for a in arms)
    parts = [f"{single} single-arm" if single else "", f"{multi} with several arms" if multi else ""]
    return f"These are {len(trials)} separate trial(s) ({', '.join(p for p in parts if p)})."


def _demographics_matrix(demo: pd.DataFrame) -> tuple[list[str], list[dict]]:
    """Rows of characteristics, one column per trial arm, with N in the header: each
    characteristic once, its categories below it in a fixed order (known terms in their order,
    then by frequency over all arms), decoded terms (Female, Male); continuous rows n (missing)
    then mean (SD) and median [min–max]."""
    if demo.empty:
        return [], []
    demo = demo.assign(category=[SEX_TERMS.get(c, c) if ch == "Sex" else c
                                 for ch, c in zip(demo["characteristic"], demo["category"])])
    cols = demo[["trial_id", "arm", "n_arm"]].drop_duplicates()
    headers = [f"{r.arm} ({r.trial_id}) N = {int(r.n_arm)}" for r in cols.itertuples()]
    characteristics = list(dict.fromkeys(demo["characteristic"]))
    out = []
    for char in characteristics:
        of = demo[demo["characteristic"] == char]
        totals = of.groupby("category")["n"].sum()
        fixed = CATEGORY_ORDER.get(char, [])
        cats = sorted(totals.index, key=lambda c: (fixed.index(c) if c in fixed else len(fixed),
                                                   c in ("MISSING", ""), -totals[c], c))
        if cats == [""]:  # a continuous variable: n (missing), then its summary
            cells_n, cells_stats = [], []
            for r in cols.itertuples():
                m = of[(of["trial_id"] == r.trial_id) & (of["arm"] == r.arm)]
                if m.empty:
                    cells_n.append("–")
                    cells_stats.append("–")
                    continue
                x = m.iloc[0]
                cells_n.append(f"{int(x['n'])} ({int(x['n_arm']) - int(x['n'])})")
                cells_stats.append(f"{format_half_up(x['mean'], 1)} ({format_half_up(x['sd'], 1)}); "
                                   f"median {format_half_up(x['median'], 1)} "
                                   f"[{format_half_up(x['min'], 0)}–{format_half_up(x['max'], 0)}]")
            out.append({"characteristic": char, "category": "", "cells": [""] * len(headers), "head": True})
            out.append({"characteristic": "", "category": "n (missing)", "cells": cells_n, "head": False})
            out.append({"characteristic": "", "category": "mean (SD); median [min–max]", "cells": cells_stats,
                        "head": False})
            continue
        out.append({"characteristic": char, "category": "", "cells": [""] * len(headers), "head": True})
        for cat in cats:
            cells = []
            for r in cols.itertuples():
                arm_rows = of[(of["trial_id"] == r.trial_id) & (of["arm"] == r.arm)]
                m = arm_rows[arm_rows["category"] == cat]
                # none in this category: 0; the characteristic not collected for the arm at all: –
                cells.append(n_pct(m.iloc[0]["n"], m.iloc[0]["n_arm"]) if len(m)
                             else n_pct(0, int(r.n_arm)) if len(arm_rows) else "–")
            out.append({"characteristic": "", "category": "Missing" if cat == "MISSING" else cat, "cells": cells,
                        "head": False})
    return headers, out


def _timepoint_key(tp: str) -> tuple:
    return (0, 0) if tp == "EOT" else (1, int(tp[1:])) if tp[1:].isdigit() else (2, tp)


def _efficacy_matrix(efficacy: pd.DataFrame, populations: pd.DataFrame,
                     endpoints: list[str]) -> tuple[list[dict], list[dict]]:
    """(columns, rows) of the responder table as clinical tables set it: a column per trial arm
    (planned, FAS N in the header), per endpoint its timepoints (EOT, then the weeks), each cell
    n/N (%) [exact 95% CI] and whether the assessments were (partly) off drug."""
    e = efficacy[efficacy["subgroup"] == "Overall"] if len(efficacy) else efficacy
    if not len(e):
        return [], []
    arms = list(dict.fromkeys(zip(e["trial_id"], e["arm"])))
    fas = {(r.trial_id, r.arm): int(r.n_fas) for r in populations.itertuples()} if len(populations) else {}
    columns = [{"trial_id": t, "arm": a, "n": fas.get((t, a))} for t, a in arms]
    cells = {(r.trial_id, r.arm, r.endpoint, r.timepoint): r for r in e.itertuples()}
    names = [n for n in endpoints if n in set(e["endpoint"])] + sorted(set(e["endpoint"]) - set(endpoints))
    rows = []
    for name in names:
        rows.append({"endpoint": name, "head": True})
        for tp in sorted(set(e.loc[e["endpoint"] == name, "timepoint"]), key=_timepoint_key):
            row = []
            for t, a in arms:
                r = cells.get((t, a, name, tp))
                if r is None:
                    row.append({"text": "–", "off_drug": False, "phase": ""})
                    continue
                text = (f"{int(r.n_responders)}/{int(r.n_subjects)} ({pct(r.pct)}%) [{ci(r.ci_low, r.ci_high)}]"
                        if r.n_subjects else f"{NOT_AVAILABLE} (no one assessed)")
                row.append({"text": text, "off_drug": r.phase in ("off drug", "on and off drug"), "phase": r.phase})
            rows.append({"endpoint": name, "timepoint": "end of treatment" if tp == "EOT" else f"week {tp[1:]}",
                         "head": False, "cells": row})
    return columns, rows


def _subtype_rows(efficacy: pd.DataFrame) -> list[dict]:
    e = efficacy[(efficacy["subgroup"] != "Overall") & (efficacy["timepoint"] == "EOT") & (efficacy["endpoint"] == "SALT50")]
    return [{"trial_id": r.trial_id, "arm": r.arm, "subgroup": r.subgroup,
             "n": f"{int(r.n_responders)}/{int(r.n_subjects)}", "pct": pct(r.pct), "ci": ci(r.ci_low, r.ci_high)}
            for r in e.itertuples()]


def _validation_summary(t: TrialData, limit: int = 50) -> dict:
    v = t.validation
    counts = (v.groupby(["rule_id", "severity"]).size().reset_index(name="n").to_dict("records") if len(v) else [])
    acc = t.accounting if t.accounting is not None else pd.DataFrame()
    shown = v.head(limit).astype(object)  # the row number is Int64: "" only as text
    return {"trial_id": t.trial_id, "label": t.label, "counts": counts, "n": len(v), "policy": t.policy,
            "first": shown.where(shown.notna(), "").to_dict("records"),
            "accounting": acc.to_dict("records"),
            "quarantined": int(acc["rows_quarantined"].sum()) if len(acc) else 0}


def _arm_switches(trials: list[TrialData], counts: dict[str, dict]) -> list[dict]:
    """Treated subjects whose actual treatment differs from the planned one, per trial."""
    return [{"trial_id": t.trial_id, "n": int(counts[t.trial_id]["n_arm_switched"])} for t in trials
            if counts[t.trial_id]["n_arm_switched"]]


def _forest_rows(efficacy: pd.DataFrame, published: pd.DataFrame, evidence: pd.DataFrame | None = None) -> list[dict]:
    """Processed trials' EOT response rates next to the published phase 3 SALT <= 20 rates: the
    evidence table's published arms where the run compared the drugs (drug, dose, week, arm
    size, the count back-computed where only a percentage is published), else the published
    results file's rows."""
    rows = []
    e = efficacy[(efficacy["subgroup"] == "Overall") & (efficacy["timepoint"] == "EOT")
                 & efficacy["endpoint"].isin(["SALTLE20", "SALT50"])] if len(efficacy) else efficacy
    for r in e.sort_values(["endpoint", "trial_id", "arm"], kind="stable").itertuples():
        name = "SALT ≤ 20" if r.endpoint == "SALTLE20" else "SALT50"
        rows.append({"label": f"{r.arm} ({r.trial_id}), {name} at EOT", "pct": r.pct, "low": r.ci_low,
                     "high": r.ci_high, "group": "processed"})
    if evidence is not None and len(evidence):
        pub = evidence[(evidence["evidence"] == "published") & (evidence["endpoint"] == "SALTLE20")]
        for r in pub.to_dict("records"):
            low, high = (100 * v for v in clopper_pearson(int(r["responders"]), int(r["n"])))
            rows.append({"label": f"{r['trial']}: {r['treatment']}, SALT ≤ 20 week {r['week']} (published, n={r['n']})",
                         "pct": float(r["percent"]), "low": low, "high": high, "group": "published"})
        return rows
    pub = published[published["endpoint"].str.replace(" ", "") == "SALT<=20"]
    for r in pub.to_dict("records"):
        value = pd.to_numeric(r["value"], errors="coerce")
        n = pd.to_numeric(r.get("n_arm"), errors="coerce")
        low = high = None
        if pd.notna(n) and n > 0:
            low, high = (100 * v for v in clopper_pearson(int(round(value / 100 * n)), int(n)))
        drug, arm = str(r.get("drug") or ""), str(r["arm"])
        treatment = (arm if arm.lower().startswith(drug.lower()) else f"{drug} {arm}").strip()  # not "placebo placebo"
        size = f", n={int(n)}" if pd.notna(n) and n > 0 else ""
        rows.append({"label": f"{r['trial']}: {treatment[:1].upper() + treatment[1:]}, SALT ≤ 20 {r['timepoint']} (published{size})",
                     "pct": value, "low": low, "high": high, "group": "published"})
    return rows


MEASURE_NAMES = {"OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference (% points)"}


def _ratio_text(estimate, low, high, measure: str) -> str:
    if estimate is None or (isinstance(estimate, float) and np.isnan(estimate)):
        return NOT_AVAILABLE
    digits = 1 if measure == "RD" else 2
    return f"{format_half_up(estimate, digits)} ({format_half_up(low, digits)} to {format_half_up(high, digits)})"


def comparative_section(tables: dict[str, pd.DataFrame], comparison: dict | None) -> dict | None:
    """The comparative-effectiveness section's rows from the compare tables (None without them)."""
    if comparison is None or "nma_effects" not in tables:
        return None
    measures = list(comparison["measures"])
    first = measures[0]
    effects, fit, league = tables["nma_effects"], tables["nma_fit"], tables["nma_league"]
    ranking, evidence = tables["nma_ranking"], tables["evidence"]
    random = effects[effects["model"] == "random"]
    ranks = ranking[(ranking["model"] == "random") & (ranking["measure"] == first)].set_index("treatment")
    order = list(ranks.sort_values("rank").index) if len(ranks) else []
    rows = []
    for t in [t for t in order if t in set(random["treatment"])]:
        cells = {}
        for m in measures:
            r = random[(random["treatment"] == t) & (random["measure"] == m)]
            if len(r):
                r = r.iloc[0]
                cells[m] = _ratio_text(r["estimate"], r["ci_low"], r["ci_high"], m)
                if m == "RD":  # patients to treat for one more responder than on the reference, rounded up
                    cells["NNT"] = str(math.ceil(100 / r["estimate"] - 1e-9)) if r["estimate"] > 0 else "not estimable"
        top = random[random["treatment"] == t].iloc[0]
        rows.append({"treatment": t, "reference": top["reference"], "trials": top["trials"], "cells": cells,
                     "pscore": format_half_up(ranks.loc[t, "pscore"], 2), "rank": int(ranks.loc[t, "rank"])})
    fits = fit[fit["measure"] == first].to_dict("records")
    estimable = any((f.get("df") or 0) > 0 for f in fits if f["model"] == "random")
    model_label = "random effects" if estimable else "common effect (heterogeneity not estimable: one trial per comparison)"
    simulated_trials = set(evidence.loc[evidence["simulated"].astype(bool), "trial"])
    for r in rows:
        r["trials"] = ", ".join(t + (" (simulated)" if t in simulated_trials else "") for t in r["trials"].split(", "))
    league_rows, league_headers = [], order
    lf = league[(league["model"] == "random") & (league["measure"] == first)]
    cell = {(r["treatment"], r["comparator"]): _ratio_text(r["estimate"], r["ci_low"], r["ci_high"], first)
            for r in lf.to_dict("records")}
    for a in order:
        league_rows.append({"treatment": a, "cells": [("" if a == b else cell.get((a, b), "")) for b in order]})
    used = evidence[evidence["in_network"]]
    sources = {"patient-level": int((used["evidence"] == "patient-level").sum()),
               "published": int((used["evidence"] == "published").sum())}
    # the processed trials at the analysis week, every published arm (the table has every week)
    shown = evidence[(evidence["endpoint"] == comparison["endpoint"])
                     & ((evidence["evidence"] == "published") | (evidence["week"] == int(comparison["week"]))
                        | evidence["in_network"])]
    ev_rows = [{**r, "percent_text": format_half_up(r["percent"], 1) if r["percent"] == r["percent"] else ""}
               for r in shown.to_dict("records")]
    maic = tables.get("maic", pd.DataFrame())
    maic_rows = [{**r, "or_text": _ratio_text(r["odds_ratio"], r["or_ci_low"], r["or_ci_high"], "OR"),
                  "boot_text": (f"{format_half_up(r['or_boot_low'], 2)} to {format_half_up(r['or_boot_high'], 2)}"
                                if r.get("or_boot_low") is not None and r.get("or_boot_low") == r.get("or_boot_low") else ""),
                  "rd_text": _ratio_text(r["risk_difference"], r["rd_ci_low"], r["rd_ci_high"], "RD"),
                  "ess_text": format_half_up(r["ess"], 1) if r.get("ess") == r.get("ess") and r.get("ess") is not None else "",
                  "rates": (f"{format_half_up(r['rate'], 1)} % weighted ({format_half_up(r['rate_unweighted'], 1)} % "
                            f"unweighted) vs {format_half_up(r['comparator_rate'], 1)} %") if r.get("rate") is not None
                  and r.get("rate") == r.get("rate") else ""}
                 for r in maic.to_dict("records")]
    balance = tables.get("maic_balance", pd.DataFrame())
    balance_rows = [{**r, "before_text": format_half_up(r["before"], 2), "after_text": format_half_up(r["after"], 2),
                     "target_text": format_half_up(r["target"], 2)} for r in balance.to_dict("records")]
    sensitivity = tables.get("nma_sensitivity", pd.DataFrame())
    # per measure, the shown model's estimates: a column per analysis, a row per treatment as ranked above
    sensitivity_tables = []
    for m in measures:
        sm = sensitivity[sensitivity["measure"] == m] if len(sensitivity) else sensitivity
        if not len(sm):
            continue
        analyses = list(dict.fromkeys(sm["analysis"]))
        failed = {r["analysis"]: r["treatment"] for r in sm[sm["model"].isna()].to_dict("records")}
        shown = {(r["analysis"], r["treatment"]): _ratio_text(r["estimate"], r["ci_low"], r["ci_high"], m)
                 for r in sm[sm["model"] == "random"].to_dict("records")}
        sensitivity_tables.append({
            "measure": m, "measure_name": MEASURE_NAMES[m], "analyses": analyses,
            "zero_cells": any(a.startswith(("increment ", "without ")) for a in analyses),
            "counts": any(a.startswith("back-computed counts") for a in analyses),
            "rows": [{"treatment": r["treatment"], "main": r["cells"].get(m, ""),
                      "cells": [failed.get(a) or shown.get((a, r["treatment"]), "not in this analysis")
                                for a in analyses]} for r in rows]})
    nmas = tables.get("published_nmas", pd.DataFrame())
    nma_rows = [{**r, "published_text": _ratio_text(r["estimate"], r["ci_low"], r["ci_high"], r["measure"]),
                 "this_text": (_ratio_text(r["this_estimate"], r["this_ci_low"], r["this_ci_high"], r["measure"])
                               if r["this_estimate"] == r["this_estimate"] and r["this_estimate"] is not None
                               else r["this_note"])}
                for r in nmas.to_dict("records")]
    return {"endpoint": comparison["endpoint"], "week": comparison["week"], "measure": first, "model_label": model_label,
            "measure_name": MEASURE_NAMES[first], "measures": measures, "rows": rows, "fits": fits,
            "league_headers": league_headers, "league_rows": league_rows, "sources": sources,
            "n_trials": int(used["trial"].nunique()), "simulated": sorted(set(used.loc[used["simulated"], "trial"])),
            "evidence": ev_rows, "maic": maic_rows, "balance": balance_rows,
            "sensitivity": sensitivity_tables, "increment": comparison.get("zero_cell_increment", 0.5),
            "published_nmas": nma_rows, "nma_methods": sorted({r["method"] for r in nma_rows}),
            "nma_intervals": sorted({r["interval"] for r in nma_rows}), "other_weeks": comparison["other_weeks"],
            "forest": [{"label": r["treatment"], "reference": r["reference"],
                        **{k: float(v) for k, v in random[(random["treatment"] == r["treatment"])
                                                          & (random["measure"] == first)]
                           .iloc[0][["estimate", "ci_low", "ci_high"]].rename({"ci_low": "low", "ci_high": "high"}).items()}}
                       for r in rows]}


def _trial_sections(trials: list[TrialData], counts: dict[str, dict], populations: pd.DataFrame) -> list[dict]:
    out = []
    for t in trials:
        arms = [{"arm": p.arm, "itt": int(p.n_itt), "saf": int(p.n_saf), "fas": int(p.n_fas)}
                for p in _of_trial(populations, t.trial_id).itertuples()]
        out.append({"trial_id": t.trial_id, "label": t.label, "format": t.fmt, "eot_week": t.eot_week,
                    "eot": t.eot_rule, "simulated": t.simulated, "notes": denominator_notes(t, counts[t.trial_id]),
                    "data_cut": t.data_cut or "not stated", "policy": t.policy, "arms": arms,
                    "screened": int(counts[t.trial_id]["n_screened"]),
                    "has_salt": counts[t.trial_id]["n_salt_subjects"] > 0})
    return out


def _figure_jobs(trials: list[TrialData], tables: dict[str, pd.DataFrame], definitions: dict,
                 forest_rows: list[dict]) -> dict[str, tuple]:
    """figure name -> (function, arguments), from the summary tables; rendered by figures.render.
    The SALT figures show each arm with a total SALT record (populations n_salt), a colour per
    arm in trial and arm order."""
    populations, km = tables["populations"], tables["km_curves"]
    visits, best = tables["salt_by_visit"], tables["best_change"]
    jobs: dict[str, tuple] = {}
    if forest_rows:
        jobs["forest"] = (figures.forest, forest_rows)
    safety = tables["safety"]
    te = safety[~safety["soc"].isin(SUMMARY_SOCS)] if len(safety) else safety
    if len(te):
        jobs["ae"] = (figures.ae_incidence, te.assign(arm_label=te["arm"] + " (" + te["trial_id"] + ")"))
    arms = []  # (label, trial_id, arm, eot_week) of the arms with SALT records
    for t in trials:
        for p in _of_trial(populations, t.trial_id).itertuples():
            if p.n_salt > 0:
                arms.append((f"{p.arm} ({t.trial_id})", t.trial_id, p.arm, p.eot_week))
    if not arms:
        return jobs

    def of_arm(table, trial_id, arm):
        return table[(table["trial_id"] == trial_id) & (table["arm"] == arm)] if len(table) else table

    arm_visits = [(label, of_arm(visits, tid, arm)) for label, tid, arm, _ in arms]
    jobs["salt_subtype"] = (figures.salt_over_time_by_subtype, arm_visits)
    response_rows = km[km["curve"] == "response"] if len(km) else km
    responses = [(f"{arm} ({t.trial_id})", rows) for t in trials
                 for arm, rows in _of_trial(response_rows, t.trial_id).groupby("arm", sort=False)]
    if responses:
        endpoint = definitions.get("relapse", {}).get("responder_endpoint", "SALT50")
        label = endpoint_labels(definitions.get("endpoints", [])).get(endpoint, endpoint)
        eot_of = {arm_label: eot for arm_label, *_, eot in arms}
        jobs["response"] = (figures.km_cumulative, responses, "Weeks since first dose", f"Proportion with {label}",
                            [eot_of.get(arm_label) for arm_label, _ in responses])
    jobs["salt"] = (figures.salt_over_time, [(label, v[v["subgroup"] == "Overall"] if len(v) else v, eot)
                                             for (label, v), (*_, eot) in zip(arm_visits, arms)])
    jobs["waterfall"] = (figures.waterfall, [(label, of_arm(best, tid, arm)) for label, tid, arm, _ in arms])
    relapse_rows = km[km["curve"] == "relapse"] if len(km) else km
    followed = [(label, of_arm(relapse_rows, tid, arm)) for label, tid, arm, _ in arms]
    followed = [(label, rows) for label, rows in followed if len(rows)]
    if followed:
        jobs["relapse"] = (figures.km_plot, followed, "Weeks since last dose")
    return jobs


def build_report(*, trials: list[TrialData], tables: dict[str, pd.DataFrame], published: pd.DataFrame,
                 definitions: dict, versions: dict, provenance: dict | Callable[[], dict] | None = None,
                 workers: int = 1, comparison: dict | None = None, results_dir: str = "results") -> str:
    """The report's HTML from the summary tables (`tables`, by name: results/tables/*.parquet)
    and each trial's sheet metadata, validation issues, accounting and files; `workers`
    processes render its figures. `provenance` may be a function, called once the figures are
    drawn (the rule graph may be drawn meanwhile). `results_dir`: the run's results folder, as the
    report names its files."""
    efficacy, relapse, safety = tables["efficacy"], tables["relapse"], tables["safety"]
    bands, disposition, comparisons = tables["regrowth_bands"], tables["disposition"], tables["comparisons"]
    populations = tables["populations"]
    counts = _counts_by_trial(tables["denominators"], trials)
    forest_rows = _forest_rows(efficacy, published, tables.get("evidence"))
    jobs = _figure_jobs(trials, tables, definitions, forest_rows)
    comparative = comparative_section(tables, comparison)
    if comparative and comparative["forest"]:
        jobs["nma_forest"] = (figures.nma_forest, comparative["forest"], comparative["measure"])
    has_salt = "salt" in jobs
    figs = {name: svg for name, svg in figures.render(jobs, workers).items() if svg}  # "": nothing to show
    if callable(provenance):
        provenance = provenance()
    demo_headers, demo_rows = _demographics_matrix(tables["demographics"])
    aesi_names = [a["name"] for a in definitions.get("aesi", [])]
    no_ae = {t.trial_id for t in trials if t.lacks("AE")}
    safety_columns, safety_overview = _safety_overview(safety, aesi_names, no_ae)
    efficacy_columns, efficacy_matrix = _efficacy_matrix(efficacy, populations,
                                                         [e["name"] for e in definitions.get("endpoints", [])])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    labels = endpoint_labels(definitions.get("endpoints", []))
    env.filters["endpoint"] = lambda name: labels.get(name, name)
    template = env.get_template("report.html.j2")
    return template.render(
        trials=trials,
        trial_sections=_trial_sections(trials, counts, populations),
        design_caveat=_design_caveat(trials, populations),
        simulated=[t for t in trials if t.simulated],
        no_salt=[t for t in trials if counts[t.trial_id]["n_salt_subjects"] == 0],
        comparisons=[{**r, "n": f"{r['n_responders']}/{r['n_subjects']}",
                      "control_n": f"{r['control_responders']}/{r['control_subjects']}",
                      "diff_text": format_half_up(r["difference"], 1), "ci": ci(r["ci_low"], r["ci_high"])}
                     for r in comparisons.to_dict("records")],
        arm_switches=_arm_switches(trials, counts),
        disposition=_disposition_matrix(disposition, {t.trial_id for t in trials if t.lacks("DS")}),
        summary=_summary_rows(trials, counts, populations, efficacy, relapse, safety, bands, aesi_names),
        safety_columns=safety_columns, safety_overview=safety_overview,
        demo_headers=demo_headers, demo_rows=demo_rows,
        subtype_rows=_subtype_rows(efficacy),
        efficacy_columns=efficacy_columns, efficacy_matrix=efficacy_matrix,
        eot_rules=[(t.trial_id, t.eot_rule) for t in trials],
        bands=bands.assign(pct_text=bands["pct"].map(pct)).to_dict("records") if len(bands) else [],
        relapse=[{**r, "median": ("no responder at end of treatment" if r["n_responders"] == 0 else
                             "no off-drug follow-up" if r["n_at_risk"] == 0 else "not reached"
                             if np.isnan(r["median_weeks"]) else format_half_up(r["median_weeks"], 1)),
                  "ci": ci(r["ci_low"], r["ci_high"])} for r in relapse.to_dict("records")],
        soc_pt=_soc_pt_matrix(safety, safety_columns, no_ae),
        ae_collected=any(t.trial_id not in no_ae for t in trials),
        results_dir=results_dir,
        published=published.fillna("").to_dict("records"),
        quality=[_validation_summary(t) for t in trials],
        inputs=[{"trial_id": t.trial_id, "data_cut": t.data_cut or "not stated", **r}
                for t in trials for r in t.inputs.to_dict("records")],
        provenance=provenance or {"code": {}, "config": "", "rules": []},
        definitions=definitions, versions=versions, figs=figs, has_salt=has_salt, comparative=comparative,
    )
