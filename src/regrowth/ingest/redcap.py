"""REDCap project export (records CSV + data dictionary CSV) to the canonical model.

The export is flat: one row per record and event, an extra row per instance of a repeating
form, checkbox fields as field___code columns. Codes are decoded to CDISC terms through the
layout's code lists, checked against the data dictionary's choices.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from regrowth.errors import InputError
from regrowth.ingest import redcap_layout as layout
from regrowth.ingest.common import file_record, require_file, type_columns
from regrowth.ingest.sdtm import read_csv
from regrowth.model import AA_SUBTYPE_CAT, SALT_TESTS

ID_COLS = ["record_id", "redcap_event_name"]
DICTIONARY_COLS = ["Variable / Field Name", "Form Name", "Field Type", "Choices, Calculations, OR Slider Labels"]


def find_export(folder: Path) -> tuple[Path, Path]:
    records = sorted(folder.glob("*_records.csv"))
    dictionary = sorted(folder.glob("*_dictionary.csv"))
    if len(records) != 1 or len(dictionary) != 1:
        raise InputError(
            f"{folder}: a REDCap export needs exactly one *_records.csv and one *_dictionary.csv "
            f"(found {len(records)} and {len(dictionary)})"
        )
    return records[0], dictionary[0]


def _check_dictionary(dictionary: pd.DataFrame, path: Path) -> None:
    missing = [c for c in DICTIONARY_COLS if c not in dictionary.columns]
    if missing:
        raise InputError(f"{path}: not a REDCap data dictionary (missing columns: {', '.join(missing)})")
    fields = set(dictionary["Variable / Field Name"])
    expected = {f[0] for f in layout.FIELDS}
    absent = sorted(expected - fields)
    if absent:
        raise InputError(f"{path}: the data dictionary lacks field(s) the mapping needs: {', '.join(absent)}")
    # Code lists in the layout must agree with the dictionary's choices.
    for field, codes in layout.CODES.items():
        row = dictionary.loc[dictionary["Variable / Field Name"] == field]
        choices = str(row["Choices, Calculations, OR Slider Labels"].iloc[0])
        ftype = str(row["Field Type"].iloc[0])
        if ftype == "yesno":
            allowed = {"0", "1"}
        else:
            allowed = {c.split(",")[0].strip() for c in choices.split("|") if c.strip()}
        unknown = sorted(set(codes) - allowed)
        if unknown:
            raise InputError(f"{path}: field {field} has no choice(s) {', '.join(unknown)} in the dictionary")


def _decode(df: pd.DataFrame, field: str, issues: list[dict], dataset: str, file: str) -> pd.Series:
    codes = layout.CODES[field]
    raw = df[field]
    out = raw.map(codes)
    bad = raw.notna() & out.isna()
    for i in raw.index[bad]:
        issues.append({"rule_id": "RG0206", "severity": "error", "dataset": dataset, "file": file,
                       "usubjid": df.at[i, "USUBJID"], "row": int(df.at[i, "SRCROW"]), "column": field,
                       "value": str(raw.at[i]),
                       "message": f"{field}: code '{raw.at[i]}' is not one of the dictionary's choices"})
    return out


def _race(df: pd.DataFrame) -> pd.Series:
    cols = [f"race___{c}" for c in layout.CODES["race"]]
    ticked = df[cols].eq("1")
    n = ticked.sum(axis=1)
    single = ticked.idxmax(axis=1).str.removeprefix("race___").map(layout.CODES["race"])
    return single.where(n == 1, pd.Series("MULTIPLE", index=df.index).where(n > 1))


def _base(df: pd.DataFrame, domain: str) -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": layout.STUDY["STUDYID"], "DOMAIN": domain, "USUBJID": df["USUBJID"],
                         "SRCFILE": df["SRCFILE"], "SRCROW": df["SRCROW"]}, index=df.index)


def _seq(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df[name] = df.groupby("USUBJID").cumcount().astype("float64") + 1
    return df


def ingest_redcap(folder: Path) -> tuple[dict[str, pd.DataFrame], list[dict], list[dict]]:
    rec_path, dict_path = find_export(folder)
    require_file(rec_path, "REDCap records export")
    require_file(dict_path, "REDCap data dictionary")
    issues: list[dict] = []
    dictionary = read_csv(dict_path, issues)
    _check_dictionary(dictionary, dict_path)
    raw = read_csv(rec_path, issues)
    missing = [c for c in ID_COLS if c not in raw.columns]
    if missing:
        raise InputError(f"{rec_path}: not a REDCap records export (missing column(s): {', '.join(missing)})")
    raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", None)
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", rec_path.name)
    raw["USUBJID"] = layout.STUDY["STUDYID"] + "-" + raw["record_id"].astype("str")
    if "redcap_repeat_instrument" not in raw.columns:
        raw["redcap_repeat_instrument"] = None
    file = rec_path.name
    for field in layout.field_columns():
        if field not in raw.columns:  # exports of a subset of forms omit fields
            raw[field] = None
            issues.append({"rule_id": "RG0004", "severity": "notice", "dataset": "REDCAP", "file": file,
                           "usubjid": None, "row": None, "column": field, "value": None,
                           "message": f"field {field} is not in the records export; its variables stay empty"})
    tables = {
        "dm": _dm(raw, issues, file),
        "ex": _ex(raw, issues, file),
        "ds": _ds(raw, issues, file),
        "ae": _ae(raw, issues, file),
        "sv": _sv(raw),
        "mh": _mh(raw, issues, file),
        "rs": _rs(raw),
    }
    tables = {d: type_columns(t, d, file, issues) for d, t in tables.items()}
    files = [file_record(rec_path, "redcap", len(raw), "DM EX DS AE SV MH RS"),
             file_record(dict_path, "redcap-dictionary", len(dictionary), "")]
    return tables, files, issues


def _rows(raw: pd.DataFrame, field: str) -> pd.DataFrame:
    """Rows on which a form was filled (its first field present)."""
    return raw[raw[field].notna()]


def _dm(raw, issues, file) -> pd.DataFrame:
    demo = _rows(raw, "age")
    drug = _rows(raw, "drug_start").set_index("USUBJID")
    eos = _rows(raw, "eos_date").set_index("USUBJID")
    dm = _base(demo, "DM")
    dm["SUBJID"] = demo["record_id"]
    dm["SITEID"] = layout.STUDY["SITEID"]
    dm["RFSTDTC"] = demo["USUBJID"].map(drug["drug_start"])
    dm["RFENDTC"] = demo["USUBJID"].map(eos["eos_date"])
    dm["RFXSTDTC"] = dm["RFSTDTC"]
    dm["RFXENDTC"] = demo["USUBJID"].map(drug["drug_stop"])
    dm["AGE"] = demo["age"]
    dm["AGEU"] = "YEARS"
    dm["SEX"] = _decode(demo, "sex", issues, "DM", file)
    dm["RACE"] = _race(demo)
    dm["ETHNIC"] = _decode(demo, "ethnicity", issues, "DM", file)
    treated = dm["RFSTDTC"].notna()
    for var in ("ARM", "ACTARM"):
        dm[var] = layout.STUDY["ARM"]
    for var in ("ARMCD", "ACTARMCD"):
        dm[var] = layout.STUDY["ARMCD"]
    dm.loc[~treated, ["ACTARM", "ACTARMCD"]] = None  # enrolled but never dosed
    dm["COUNTRY"] = layout.STUDY["COUNTRY"]
    return dm


def _ex(raw, issues, file) -> pd.DataFrame:
    drug = _rows(raw, "drug_start")
    ex = _base(drug, "EX")
    ex["EXTRT"] = layout.STUDY["EXTRT"]
    ex["EXDOSE"] = drug["drug_dose"]
    ex["EXDOSU"] = layout.STUDY["EXDOSU"]
    ex["EXDOSFRQ"] = _decode(drug, "drug_freq", issues, "EX", file)
    ex["EXROUTE"] = layout.STUDY["EXROUTE"]
    ex["EXSTDTC"] = drug["drug_start"]
    ex["EXENDTC"] = drug["drug_stop"]
    return _seq(ex, "EXSEQ")


def _ds(raw, issues, file) -> pd.DataFrame:
    consent = _rows(raw, "consent_date")
    ic = _base(consent, "DS")
    ic["DSTERM"] = ic["DSDECOD"] = "INFORMED CONSENT OBTAINED"
    ic["DSCAT"] = "PROTOCOL MILESTONE"
    ic["DSSTDTC"] = consent["consent_date"]
    eos = _rows(raw, "eos_status")
    disp = _base(eos, "DS")
    disp["DSDECOD"] = _decode(eos, "eos_status", issues, "DS", file)
    disp["DSTERM"] = disp["DSDECOD"]
    disp["DSCAT"] = "DISPOSITION EVENT"
    disp["DSSTDTC"] = eos["eos_date"]
    ds = pd.concat([ic, disp]).sort_values(["SRCROW"], kind="stable")
    return _seq(ds, "DSSEQ")


def _ae(raw, issues, file) -> pd.DataFrame:
    rows = raw[raw["redcap_repeat_instrument"] == "adverse_events"]
    ae = _base(rows, "AE")
    ae["AETERM"] = rows["ae_term"]
    ae["AEDECOD"] = rows["ae_pt"]
    ae["AEBODSYS"] = rows["ae_soc"]
    ae["AESEV"] = _decode(rows, "ae_severity", issues, "AE", file)
    ae["AESER"] = _decode(rows, "ae_serious", issues, "AE", file)
    ae["AEREL"] = _decode(rows, "ae_related", issues, "AE", file)
    ae["AESTDTC"] = rows["ae_start"]
    ae["AEENDTC"] = rows["ae_end"]
    return _seq(ae, "AESEQ")


def _visit_columns(rows: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    df["VISIT"] = rows["redcap_event_name"].map(layout.visit_for_event)
    df["VISITNUM"] = df["VISIT"].map(layout.visitnum_for_visit)
    return df


def _sv(raw) -> pd.DataFrame:
    rows = _rows(raw, "salt_date")
    sv = _visit_columns(rows, _base(rows, "SV"))
    sv["SVSTDTC"] = rows["salt_date"]
    sv["SVENDTC"] = rows["salt_date"]
    return sv


def _mh(raw, issues, file) -> pd.DataFrame:
    demo = _rows(raw, "aa_subtype")
    sub = _base(demo, "MH")
    sub["MHDECOD"] = _decode(demo, "aa_subtype", issues, "MH", file)
    sub["MHTERM"] = sub["MHDECOD"].str.capitalize()
    sub["MHCAT"] = AA_SUBTYPE_CAT
    sub["MHSTDTC"] = demo["aa_onset"]
    atopic = demo[demo["atopic_derm"] == "1"]
    hist = _base(atopic, "MH")
    hist["MHTERM"] = "atopic dermatitis"
    hist["MHDECOD"] = "Dermatitis atopic"
    hist["MHCAT"] = "GENERAL MEDICAL HISTORY"
    mh = pd.concat([sub, hist]).sort_values(["SRCROW"], kind="stable")
    return _seq(mh, "MHSEQ")


def _rs(raw) -> pd.DataFrame:
    rows = _rows(raw, "salt_date")
    parts = []
    for code, field in layout.SALT_FIELDS.items():
        present = rows[rows[field].notna()]
        part = _visit_columns(present, _base(present, "RS"))
        part["RSCAT"] = "SALT"
        part["RSTESTCD"] = code
        part["RSTEST"] = SALT_TESTS[code]
        part["RSORRES"] = present[field]
        part["RSORRESU"] = "%"
        part["RSSTRESC"] = present[field]
        part["RSSTRESN"] = present[field]
        part["RSSTRESU"] = "%"
        part["RSDTC"] = present["salt_date"]
        part["_order"] = list(layout.SALT_FIELDS).index(code)
        parts.append(part)
    rs = pd.concat(parts).sort_values(["SRCROW", "_order"], kind="stable").drop(columns="_order")
    return _seq(rs, "RSSEQ")
