"""The patient-level summary table the comparisons read (regrowth.compare): one row per FAS
subject and responder endpoint, with the baseline covariates a matching-adjusted indirect
comparison matches on and the subject's response at end of treatment, counted as the efficacy
table counts it (NRI: no end-of-treatment value is a non-responder; observed: missing)."""

from __future__ import annotations

import pandas as pd
import polars as pl

from regrowth.summarize.select import read_rows, to_pandas
from regrowth.summarize.tables import EOT, TOTAL_RECORDS, _empty, has_salt

COLUMNS = ["trial_id", "USUBJID", "arm", "AGE", "female", "SALTBL", "at_au", "DURDIS", "endpoint", "timepoint",
           "responder"]
AT_AU = ("ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS")


def comparison_subjects_table(trial_id: str, adsl, adsalt, endpoints: list[dict], imputation: str) -> pd.DataFrame:
    if not has_salt(adsalt):
        return _empty(COLUMNS)
    crit = [f"CRIT{y}FL" for y in range(1, len(endpoints) + 1)]
    subjects = read_rows(adsl, ["USUBJID", "TRT01P", "FASFL"], pl.col("FASFL") == "Y",
                         optional=["AGE", "SEX", "SALTBL", "AATYPE", "DURDIS"], name="adsl")
    subjects = subjects.select(
        pl.col("USUBJID").cast(pl.String), arm=pl.col("TRT01P").cast(pl.String),
        AGE=pl.col("AGE").cast(pl.Float64) if "AGE" in subjects.columns else pl.lit(None, pl.Float64),
        female=(pl.col("SEX").cast(pl.String) == "F").cast(pl.Float64) if "SEX" in subjects.columns
        else pl.lit(None, pl.Float64),
        SALTBL=pl.col("SALTBL").cast(pl.Float64) if "SALTBL" in subjects.columns else pl.lit(None, pl.Float64),
        # a subject without a subtype record has no AT/AU value (null), not "patchy"
        at_au=pl.col("AATYPE").cast(pl.String).is_in(AT_AU).cast(pl.Float64) if "AATYPE" in subjects.columns
        else pl.lit(None, pl.Float64),
        DURDIS=pl.col("DURDIS").cast(pl.Float64) if "DURDIS" in subjects.columns else pl.lit(None, pl.Float64))
    eot = read_rows(adsalt, ["USUBJID", *crit], EOT, within=TOTAL_RECORDS, name="adsalt").with_columns(pl.col("USUBJID").cast(pl.String))
    merged = subjects.join(eot, on="USUBJID", how="left", validate="1:1")
    frames = []
    for ep, c in zip(endpoints, crit):
        flag = pl.col(c).cast(pl.String)
        responded = pl.when(flag == "Y").then(1.0).when(flag == "N").then(0.0).otherwise(
            0.0 if imputation == "NRI" else None)
        frames.append(merged.select("USUBJID", "arm", "AGE", "female", "SALTBL", "at_au", "DURDIS",
                                    endpoint=pl.lit(ep["name"]), timepoint=pl.lit("EOT"),
                                    responder=responded.cast(pl.Float64)))
    out = pl.concat(frames).with_columns(trial_id=pl.lit(trial_id)).select(COLUMNS).sort("endpoint", "USUBJID",
                                                                                         maintain_order=True)
    return to_pandas(out)
