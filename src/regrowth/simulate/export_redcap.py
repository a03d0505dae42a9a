"""Write canonical tables as a REDCap project export: records CSV + data dictionary CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from regrowth.simulate.redcap_project import (
    CODES,
    SALT_FIELDS,
    dictionary_rows,
    event_for_visit,
    record_columns,
)



def _encode(field: str, values: pd.Series) -> pd.Series:
    inverse = {v: k for k, v in CODES[field].items()}
    return values.map(inverse)


def _record_id(usubjid: pd.Series, studyid: str) -> pd.Series:
    return usubjid.str.removeprefix(f"{studyid}-")


def export_redcap(tables: dict[str, pd.DataFrame], outdir: Path, stem: str) -> list[Path]:
    dm, rs, ex, ae, ds, mh = (tables[k] for k in ("dm", "rs", "ex", "ae", "ds", "mh"))
    studyid = dm["STUDYID"].iloc[0]
    rows: list[pd.DataFrame] = []

    consent = ds[ds["DSDECOD"] == "INFORMED CONSENT OBTAINED"].set_index("USUBJID")["DSSTDTC"]
    subtype = mh[mh["MHCAT"] == "ALOPECIA AREATA SUBTYPE"].set_index("USUBJID")
    atopic = set(mh.loc[mh["MHDECOD"] == "Dermatitis atopic", "USUBJID"])
    demo = pd.DataFrame({"USUBJID": dm["USUBJID"], "redcap_event_name": "screening_arm_1"})
    demo["consent_date"] = dm["USUBJID"].map(consent)
    demo["age"] = dm["AGE"].map(lambda a: f"{a:.0f}")
    demo["sex"] = _encode("sex", dm["SEX"])
    for code, term in CODES["race"].items():
        demo[f"race___{code}"] = (dm["RACE"] == term).astype(int).astype(str)
    demo["ethnicity"] = _encode("ethnicity", dm["ETHNIC"])
    demo["aa_subtype"] = _encode("aa_subtype", dm["USUBJID"].map(subtype["MHDECOD"]))
    demo["aa_onset"] = dm["USUBJID"].map(subtype["MHSTDTC"])
    demo["atopic_derm"] = dm["USUBJID"].isin(atopic).astype(int).astype(str)
    demo["demographics_complete"] = "2"
    rows.append(demo)

    wide = rs.pivot_table(index=["USUBJID", "VISIT", "VISITNUM", "RSDTC"], columns="RSTESTCD",
                          values="RSSTRESN", aggfunc="first").reset_index()
    salt = pd.DataFrame({"USUBJID": wide["USUBJID"], "redcap_event_name": wide["VISIT"].map(event_for_visit),
                         "salt_date": wide["RSDTC"], "_order": wide["VISITNUM"]})
    for code, field in SALT_FIELDS.items():
        salt[field] = wide[code].map(lambda v: f"{v:g}")
    salt["salt_complete"] = "2"
    rows.append(salt)

    drug = ex.groupby("USUBJID", sort=False).agg(start=("EXSTDTC", "min"), stop=("EXENDTC", "max"),
                                                  dose=("EXDOSE", "first"), freq=("EXDOSFRQ", "first"))
    rows.append(pd.DataFrame({"USUBJID": drug.index, "redcap_event_name": "baseline_arm_1",
                              "drug_start": drug["start"].to_numpy(), "drug_stop": drug["stop"].to_numpy(),
                              "drug_dose": drug["dose"].map(lambda v: f"{v:g}").to_numpy(),
                              "drug_freq": _encode("drug_freq", drug["freq"]).to_numpy(),
                              "study_drug_complete": "2", "_order": 2.0}))

    aes = pd.DataFrame({"USUBJID": ae["USUBJID"], "redcap_event_name": "adverse_events_arm_1",
                        "redcap_repeat_instrument": "adverse_events",
                        "redcap_repeat_instance": ae["AESEQ"].map(lambda v: f"{v:.0f}"),
                        "ae_term": ae["AETERM"], "ae_pt": ae["AEDECOD"], "ae_soc": ae["AEBODSYS"],
                        "ae_start": ae["AESTDTC"], "ae_end": ae["AEENDTC"],
                        "ae_severity": _encode("ae_severity", ae["AESEV"]),
                        "ae_serious": _encode("ae_serious", ae["AESER"]),
                        "ae_related": _encode("ae_related", ae["AEREL"]),
                        "adverse_events_complete": "2", "_order": 900.0})
    rows.append(aes)

    disp = ds[ds["DSCAT"] == "DISPOSITION EVENT"]
    rows.append(pd.DataFrame({"USUBJID": disp["USUBJID"], "redcap_event_name": "end_of_study_arm_1",
                              "eos_date": disp["DSSTDTC"], "eos_status": _encode("eos_status", disp["DSDECOD"]),
                              "end_of_study_complete": "2", "_order": 999.0}))

    out = pd.concat(rows, ignore_index=True)
    out["_order"] = out["_order"].fillna(0.0)
    # one row per record and event (and repeat instance): forms of one event share it
    keys = ["USUBJID", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"]
    for k in keys[2:]:
        out[k] = out[k].astype("str").fillna("")
    out = out.groupby(keys, sort=False, dropna=False).agg(
        {c: "first" for c in out.columns if c not in keys} | {"_order": "max"}).reset_index()
    for k in keys[2:]:
        out[k] = out[k].mask(out[k] == "")
    out["_subject"] = out["USUBJID"].map({u: i for i, u in enumerate(dm["USUBJID"])})
    out["_instance"] = pd.to_numeric(out.get("redcap_repeat_instance"), errors="coerce").fillna(0)
    out = out.sort_values(["_subject", "_order", "_instance"], kind="stable")
    out["record_id"] = _record_id(out["USUBJID"], studyid)
    # REDCap fills other forms' checkboxes with 0 on every row of the record's events
    for col in [c for c in record_columns() if "___" in c]:
        out[col] = out[col].where(out["redcap_event_name"] == "screening_arm_1")
    records = out.reindex(columns=record_columns())

    outdir.mkdir(parents=True, exist_ok=True)
    rec_path, dict_path = outdir / f"{stem}_records.csv", outdir / f"{stem}_dictionary.csv"
    records.to_csv(rec_path, index=False, lineterminator="\n")
    pd.DataFrame(dictionary_rows()).to_csv(dict_path, index=False, lineterminator="\n")
    return [rec_path, dict_path]

