"""ADAE: analysis dates with imputation flags, treatment emergence, first-occurrence flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.dates import impute_date
from regrowth.frames import assert_unique_keys, lookup, require_columns
from regrowth.derive import ORDER

ADAE_COLUMNS = ["STUDYID", "USUBJID", "AESEQ", "TRTA", "TRT01P", "TRT01A", "SAFFL", "AETERM", "AEDECOD",
                "AEBODSYS", "AESEV", "AESER", "AEREL", "AEACN", "AESTDTC", "AEENDTC", "ASTDT", "ASTDTF", "AENDT",
                "AENDTF", "ASTDY", "TRTEMFL", "AOCCFL", "AOCCSFL", "AOCCPFL"]


def derive_vars_astdt(ae: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """ASTDT/ASTDTF and AENDT/AENDTF. Partial starts impute to the first possible day, but not
    before first dose when the partial date admits the first-dose date (admiral min_dates)."""
    require_columns(ae, ["USUBJID", "AESTDTC", "AEENDTC"], "derive_vars_astdt")
    trtsdt = lookup(ae["USUBJID"], adsl.set_index("USUBJID")["TRTSDT"])
    astdt, astdtf = impute_date(ae["AESTDTC"], how="first", min_dates=trtsdt)
    aendt, aendtf = impute_date(ae["AEENDTC"], how="last")
    return ae.assign(ASTDT=astdt, ASTDTF=astdtf, AENDT=aendt, AENDTF=aendtf)


def derive_var_trtemfl(adae: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """TRTEMFL: starts on or after first dose and no later than last dose + window.

    A missing start date counts as emergent for a treated subject (the conservative choice),
    unless the AE ended before the first dose.
    """
    require_columns(adae, ["ASTDT", "AENDT", "TRTSDT", "TRTEDT"], "derive_var_trtemfl")
    treated = adae["TRTSDT"].notna()
    end = adae["TRTEDT"] + pd.to_timedelta(window_days, unit="D")
    within = (adae["ASTDT"] >= adae["TRTSDT"]) & (adae["ASTDT"] <= end.fillna(adae["ASTDT"]))
    ended_before = (adae["AENDT"] < adae["TRTSDT"]).fillna(False)  # no start, but over before the first dose
    emergent = treated & ((adae["ASTDT"].isna() & ~ended_before) | within.fillna(False))
    return adae.assign(TRTEMFL=pd.Series(np.where(emergent, "Y", None), index=adae.index, dtype="str"))


def derive_var_aoccfl(adae: pd.DataFrame, by: list[str], name: str) -> pd.DataFrame:
    """First treatment-emergent occurrence per subject (and `by`), for counting subjects."""
    require_columns(adae, ["USUBJID", "TRTEMFL", "ASTDT", "AESEQ"] + by, "derive_var_aoccfl")
    te = adae[adae["TRTEMFL"] == "Y"].sort_values(["USUBJID", *by, "ASTDT", "AESEQ"], kind="stable", na_position="last")
    first = te.groupby(["USUBJID", *by], dropna=False).head(1).index
    flag = pd.Series(None, index=adae.index, dtype="str")
    flag.loc[first] = "Y"
    return adae.assign(**{name: flag})


def derive_adae(ae: pd.DataFrame, adsl: pd.DataFrame, *, window_days: int) -> pd.DataFrame:
    require_columns(adsl, ["USUBJID", "TRTSDT", "TRTEDT", "TRT01A", "TRT01P", "SAFFL"], "derive_adae")
    assert_unique_keys(ae, ["USUBJID", "AESEQ"], "derive_adae (AE)")
    adae = derive_vars_astdt(ae, adsl)
    adae = adae.merge(adsl[["USUBJID", "TRTSDT", "TRTEDT", "TRT01P", "TRT01A", "SAFFL"]], on="USUBJID",
                      how="left", validate="m:1")
    adae["TRTA"] = adae["TRT01A"]
    delta = (adae["ASTDT"] - adae["TRTSDT"]).dt.days.astype("float64")
    adae["ASTDY"] = np.where(delta >= 0, delta + 1, delta)
    adae = derive_var_trtemfl(adae, window_days)
    adae = derive_var_aoccfl(adae, [], "AOCCFL")
    adae = derive_var_aoccfl(adae, ["AEBODSYS"], "AOCCSFL")
    adae = derive_var_aoccfl(adae, ["AEBODSYS", "AEDECOD"], "AOCCPFL")
    for col in ADAE_COLUMNS:
        if col not in adae.columns:
            adae[col] = pd.Series(None, index=adae.index, dtype="str")
    return adae[ADAE_COLUMNS].sort_values(ORDER["adae"], kind="stable").reset_index(drop=True)
