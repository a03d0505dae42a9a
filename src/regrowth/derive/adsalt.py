"""ADSALT: SALT by visit (BDS) with baseline, change, analysis visits, phase and responder flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.dates import study_day
from regrowth.derive.salt import ON_OR_BEFORE, TOTAL, flag_baseline, salt_records
from regrowth.frames import (assert_unique_keys, group_bounds, isin, key_codes, lookup_columns, require_columns,
                             sort_rows, text_from_codes)
from regrowth.derive import ORDER
from regrowth.errors import ContractError
from regrowth.rounding import at_compare_precision

OPERATORS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}


def merge_adsl(rec: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    require_columns(adsl, ["USUBJID", "TRTSDT", "TRTEDT", "TRT01P", "TRT01A", "FASFL"], "merge_adsl")
    keep = ["STUDYID", "TRT01P", "TRT01A", "TRTSDT", "TRTEDT", "FASFL", "AATYPE"]
    assert_unique_keys(adsl, ["USUBJID"], "merge_adsl (ADSL)")
    # an inner m:1 merge, column by column: pandas' merge copies every record column once more
    out = rec[isin(rec["USUBJID"], adsl["USUBJID"])].reset_index(drop=True)
    found = lookup_columns(out["USUBJID"], adsl.set_index("USUBJID")[[c for c in keep if c in adsl.columns]])
    return pd.concat([out, found], axis=1)


def derive_var_ady(df: pd.DataFrame) -> pd.DataFrame:
    require_columns(df, ["ADT", "TRTSDT"], "derive_var_ady")
    return df.assign(ADY=study_day(df["ADT"], df["TRTSDT"]))


def derive_var_ablfl(df: pd.DataFrame, baseline: str = ON_OR_BEFORE) -> pd.DataFrame:
    require_columns(df, ["USUBJID", "PARAMCD", "AVAL", "ADT", "TRTSDT"], "derive_var_ablfl")
    first = df.drop_duplicates("USUBJID").set_index("USUBJID")["TRTSDT"]
    return df.assign(ABLFL=flag_baseline(df, first, baseline))


def derive_vars_chg(df: pd.DataFrame) -> pd.DataFrame:
    """BASE, CHG = AVAL - BASE, PCHG = CHG / BASE * 100 (undefined when BASE = 0)."""
    require_columns(df, ["USUBJID", "PARAMCD", "AVAL", "ABLFL"], "derive_vars_chg")
    base = df[df["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    key = pd.MultiIndex.from_frame(df[["USUBJID", "PARAMCD"]])
    out = df.copy(deep=False)  # copy-on-write: df is left as it was
    out["BASE"] = base.reindex(key).to_numpy()
    out["CHG"] = out["AVAL"] - out["BASE"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pchg = out["CHG"] / out["BASE"] * 100
    out["PCHG"] = pchg.where(out["BASE"] != 0)
    return out


PHASES = ["PRE-TREATMENT", "ON TREATMENT", "OFF DRUG"]


def derive_var_aphase(df: pd.DataFrame) -> pd.DataFrame:
    """APHASE: before first dose, on treatment (to last dose inclusive) or off drug."""
    require_columns(df, ["ADT", "TRTSDT", "TRTEDT"], "derive_var_aphase")
    phase = np.select(  # codes into PHASES (-1: missing), text built once per distinct value
        [df["ADT"].isna() | df["TRTSDT"].isna(), df["ADT"] <= df["TRTSDT"], df["ADT"] <= df["TRTEDT"]],
        [-1, 0, 1],
        default=2,
    )
    return df.assign(APHASE=text_from_codes(phase, PHASES, df.index))


def nearest_target(day: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each study day, the index of the nearest of evenly spaced target days (a tie goes to
    the earlier target; a missing day to the first) and its distance (missing for a missing day).
    Computed from the spacing, not by measuring every target from every record."""
    if len(targets) == 1:
        nearest = np.zeros(len(day), dtype=np.intp)
    else:
        position = (day - targets[0]) / (targets[1] - targets[0])  # fractional target index
        # round half down: at exactly half way the earlier target wins
        nearest = np.clip(np.ceil(np.nan_to_num(position, nan=0.0) - 0.5), 0, len(targets) - 1).astype(np.intp)
    return nearest, np.abs(day - targets[nearest])


def derive_vars_avisit(df: pd.DataFrame, grid_weeks: int, window_days: int, last_week: int) -> pd.DataFrame:
    """Analysis visits by study-day windows; ANL01FL marks the record analysed per visit.

    Week w targets study day 7w + 1 with +/- window_days; the baseline record is AVISIT
    'Baseline' (AVISITN 0). Of several records in one window, the one closest to the target
    is analysed (ties: the earlier).
    """
    require_columns(df, ["USUBJID", "PARAMCD", "ADY", "ABLFL", "ADT"], "derive_vars_avisit")
    weeks = np.arange(grid_weeks, last_week + 1, grid_weeks)
    ady = df["ADY"].to_numpy(dtype="float64")
    nearest, best = nearest_target(ady, weeks * 7 + 1)
    in_window = (best <= window_days) & (ady > 1)
    avisitn = np.where(in_window, weeks[nearest], np.nan)
    out = df.copy(deep=False)  # copy-on-write: df is left as it was
    out["AVISITN"] = np.where(out["ABLFL"] == "Y", 0.0, avisitn)
    codes, visits = pd.factorize(out["AVISITN"])  # missing: -1
    out["AVISIT"] = text_from_codes(codes, ["Baseline" if w == 0 else f"Week {int(w)}" for w in visits], out.index)
    # the records ranked by number only: the subject and parameter as one code per pair
    eligible = (out["AVISITN"].notna() & out["AVAL"].notna() & out["USUBJID"].notna()
                & out["PARAMCD"].notna()).to_numpy()
    ranked = pd.DataFrame({
        "pair": key_codes(out, ["USUBJID", "PARAMCD"])[eligible],
        "AVISITN": out["AVISITN"].to_numpy()[eligible],
        "dist": np.where(out["ABLFL"] == "Y", 0, best if len(df) else 0)[eligible],
        "ADT": out["ADT"].to_numpy()[eligible],
    }, index=np.flatnonzero(eligible))
    ranked = sort_rows(ranked, list(ranked.columns), keep_index=True)
    chosen = np.zeros(len(out), dtype=bool)
    chosen[ranked.index[group_bounds(ranked, ["pair", "AVISITN"])[0]]] = True
    out["ANL01FL"] = text_from_codes(np.where(chosen, 0, -1), ["Y"], out.index)
    return out


def derive_var_eotfl(df: pd.DataFrame, eot_week: int | None, window_days_after_last_dose: int = 14) -> pd.DataFrame:
    """EOTFL: the end-of-treatment record of each subject and parameter.

    With a planned end-of-treatment week (the sheet's eot_week): the analysed record at that
    visit; a subject without one has no EOT value (non-responder under NRI). Without: the last
    assessment after the first dose (study day > 1) dated no later than the last dose plus
    `window_days_after_last_dose` days; of records on one date, the analysed one, then the
    highest VISITNUM."""
    require_columns(df, ["USUBJID", "PARAMCD", "AVISITN", "ANL01FL", "ADT", "ADY", "AVAL", "TRTEDT", "VISITNUM"],
                    "derive_var_eotfl")
    flag = pd.Series(None, index=df.index, dtype="str")
    if eot_week is not None:
        return df.assign(EOTFL=flag.mask((df["AVISITN"] == eot_week) & (df["ANL01FL"] == "Y"), "Y"))
    limit = df["TRTEDT"] + pd.to_timedelta(window_days_after_last_dose, unit="D")
    eligible = (df["ADY"] > 1) & df["AVAL"].notna() & df["ADT"].notna() & (df["ADT"] <= limit).fillna(False)
    cand = pd.DataFrame({"pair": key_codes(df, ["USUBJID", "PARAMCD"]), "ADT": df["ADT"],
                         "analysed": (df["ANL01FL"] == "Y").fillna(False).astype(int),
                         "VISITNUM": df["VISITNUM"]})[eligible.to_numpy(dtype=bool)]
    cand = sort_rows(cand, ["pair", "ADT", "analysed", "VISITNUM"], keep_index=True)
    flag.loc[cand.index[group_bounds(cand, ["pair"])[1]]] = "Y"
    return df.assign(EOTFL=flag)


def derive_vars_crit(df: pd.DataFrame, endpoints: list[dict]) -> pd.DataFrame:
    """CRITy/CRITyFL for each responder endpoint (total SALT only); null when not evaluable."""
    out = df.copy(deep=False)  # copy-on-write: df is left as it was
    total = out["PARAMCD"] == TOTAL
    for y, ep in enumerate(endpoints, start=1):
        var, op, value = ep["variable"], ep["operator"], float(ep["value"])
        require_columns(out, [var], "derive_vars_crit")
        x = at_compare_precision(out[var].to_numpy(dtype="float64"))
        met = OPERATORS[op](x, value)
        evaluable = ~np.isnan(x) & total.to_numpy()
        out[f"CRIT{y}"] = text_from_codes(np.where(total, 0, -1), [f"{ep['name']}: {var} {op} {value:g}"], out.index)
        out[f"CRIT{y}FL"] = text_from_codes(np.where(evaluable, np.where(met, 0, 1), -1), ["Y", "N"], out.index)
    return out


def derive_adsalt(rs: pd.DataFrame, adsl: pd.DataFrame, **definitions) -> pd.DataFrame:
    """ADSALT from RS; `definitions` as adsalt_from_records takes them."""
    return adsalt_from_records(salt_records(rs), adsl, **definitions)


def adsalt_from_records(records: pd.DataFrame, adsl: pd.DataFrame, *, endpoints: list[dict], grid_weeks: int,
                        window_days: int, eot_week: int | None, baseline: str = ON_OR_BEFORE,
                        eot_window_days: int = 14) -> pd.DataFrame:
    """derive_adsalt from RS's salt_records. A caller done with RS can free it before the
    derivation's copies pile up. RS without records gives an ADSALT without rows, with the same
    column types as any other (the chain runs on zero rows)."""
    columns = ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE", "PARAMCD", "PARAM", "VISIT", "VISITNUM",
               "ADT", "ADY", "AVISIT", "AVISITN", "APHASE", "AVAL", "DTYPE", "ABLFL", "BASE", "CHG", "PCHG",
               "ANL01FL", "EOTFL"] + [f"CRIT{y}{s}" for y in range(1, len(endpoints) + 1) for s in ("", "FL")]
    if eot_week is not None and eot_week % grid_weeks:  # no analysis visit would be the EOT week
        raise ContractError(f"derive_adsalt: eot_week {eot_week} is not on the {grid_weeks}-week visit grid "
                            "(regrowth.definitions.check_weeks stops such a run before it starts)")
    rec = merge_adsl(records, adsl)
    rec = derive_var_ady(rec)
    rec = derive_var_ablfl(rec, baseline)
    rec = derive_vars_chg(rec)
    rec = derive_var_aphase(rec)
    last_week = int(np.nanmax(rec["ADY"]) // 7 + 2) if rec["ADY"].notna().any() else grid_weeks
    rec = derive_vars_avisit(rec, grid_weeks, window_days, max(last_week, grid_weeks))
    rec = derive_var_eotfl(rec, eot_week, eot_window_days)
    rec = derive_vars_crit(rec, endpoints)
    assert_unique_keys(rec, ["USUBJID", "PARAMCD", "VISITNUM"], "derive_adsalt")
    return sort_rows(rec[columns], ORDER["adsalt"])
