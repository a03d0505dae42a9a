"""REDCap project export (records CSV + data dictionary CSV + mapping YAML) to the canonical model.

The export is flat: one row per record and event, an extra row per instance of a repeating
form, checkbox fields as field___code columns. The trial's mapping file says which field plays
which role, which event is which visit, and how choice codes translate to CDISC terms. Values
are checked against the data dictionary (validation type, min/max, choices) and every problem
is reported with its record row.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import polars as pl
import yaml

from regrowth.errors import InputError
from regrowth.exports import find_redcap_export
from regrowth.ingest.common import file_record, require_file, type_columns
from regrowth.ingest.sdtm import Assembled, read_csv, read_csv_lines
from regrowth.model import AA_SUBTYPE_CAT, SALT_TESTS

ID_COLS = ["record_id", "redcap_event_name"]
DICT_FIELD, DICT_FORM, DICT_TYPE = "Variable / Field Name", "Form Name", "Field Type"
DICT_CHOICES, DICT_VALIDATION = "Choices, Calculations, OR Slider Labels", "Text Validation Type OR Show Slider Number"
DICT_MIN, DICT_MAX = "Text Validation Min", "Text Validation Max"
DICTIONARY_COLS = [DICT_FIELD, DICT_FORM, DICT_TYPE, DICT_CHOICES]
SALT_ROLES = {"SALT01": "salt_top", "SALT02": "salt_back", "SALT03": "salt_right", "SALT04": "salt_left",
              "SALTTOT": "salt_total"}
# Roles a required SDTM variable depends on, and when (which other role makes the domain present).
REQUIRED_ROLES = {"sex": ("DM.SEX", None), "drug_start": ("EX.EXSTDTC", "drug_stop"),
                  "ae_term": ("AE.AETERM", "ae_pt"), "salt_date": ("RS.RSDTC", "salt_total")}
DATE_YMD = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def _mapping_schema() -> dict:
    return yaml.safe_load(resources.files("regrowth.ingest").joinpath("redcap_mapping.schema.yaml").read_text())


def load_mapping(path: Path) -> dict:
    require_file(path, "REDCap mapping file")
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    errors = sorted(jsonschema.Draft202012Validator(_mapping_schema()).iter_errors(mapping), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise InputError(f"{path}: invalid REDCap mapping at {where}: {e.message}")
    mapping.setdefault("usubjid", "{STUDYID}-{record_id}")
    mapping.setdefault("codes", {})
    return mapping


def _check_mapping_against_dictionary(mapping: dict, dictionary: pd.DataFrame, path: Path) -> None:
    fields = set(dictionary[DICT_FIELD])
    roles = mapping["fields"]
    unknown = sorted(f"{role} -> {field}" for role, field in roles.items() if field not in fields)
    problems = [f"mapped field(s) not in the data dictionary: {', '.join(unknown)}"] if unknown else []
    unmapped = [f"{var} (role '{role}')" for role, (var, when) in REQUIRED_ROLES.items()
                if role not in roles and (when is None or when in roles)]
    if unmapped:
        problems.append(f"unmapped required variable(s): {', '.join(unmapped)}")
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems))


def _issue(rule, severity, row, field, value, message, file) -> dict:
    return {"rule_id": rule, "severity": severity, "dataset": "REDCAP", "file": file,
            "usubjid": row["USUBJID"], "row": int(row["SRCROW"]), "column": field, "value": value,
            "message": message}


def dictionary_issues(raw: pd.DataFrame, dictionary: pd.DataFrame, file: str) -> list[dict]:
    """Check values against the data dictionary: choices, validation type, min/max."""
    out: list[dict] = []
    for spec in dictionary.to_dict("records"):
        field, ftype = spec[DICT_FIELD], spec[DICT_TYPE]
        if ftype in ("radio", "dropdown", "yesno", "truefalse"):
            allowed = ({"0", "1"} if ftype in ("yesno", "truefalse") else
                       {c.split(",")[0].strip() for c in str(spec[DICT_CHOICES]).split("|") if c.strip()})
            if field not in raw.columns:
                continue
            values = raw[field]
            for i in values.index[values.notna() & ~values.isin(allowed)]:
                out.append(_issue("RG0206", "error", raw.loc[i], field, values[i],
                                  f"{field}: code '{values[i]}' is not one of the dictionary's choices "
                                  f"({', '.join(sorted(allowed))})", file))
        elif ftype == "checkbox":
            for col in [c for c in raw.columns if c.startswith(f"{field}___")]:
                values = raw[col]
                for i in values.index[values.notna() & ~values.isin(["0", "1"])]:
                    out.append(_issue("RG0206", "error", raw.loc[i], col, values[i],
                                      f"{col}: checkbox value '{values[i]}' is not 0 or 1", file))
        elif ftype == "text" and field in raw.columns:
            out += _text_issues(raw, field, str(spec.get(DICT_VALIDATION, "") or ""), spec, file)
    return out


def _text_issues(raw, field, validation, spec, file) -> list[dict]:
    values = raw[field]
    present = values.notna()
    out = []
    if validation.startswith("date_"):
        bad = present & ~values.astype("str").str.match(DATE_YMD.pattern)
        parsed = pd.to_datetime(values.where(present & ~bad), format="%Y-%m-%d", errors="coerce")
        bad |= present & ~bad & parsed.isna()
        for i in values.index[bad]:
            out.append(_issue("RG0207", "error", raw.loc[i], field, values[i],
                              f"{field}: '{values[i]}' is not a valid date (YYYY-MM-DD)", file))
        return out
    if validation not in ("integer", "number"):
        return out
    num = pd.to_numeric(values, errors="coerce")
    bad = present & num.isna()
    if validation == "integer":
        bad |= present & num.notna() & (num % 1 != 0)
    for i in values.index[bad]:
        out.append(_issue("RG0207", "error", raw.loc[i], field, values[i],
                          f"{field}: '{values[i]}' is not a valid {validation}", file))
    lo = pd.to_numeric(pd.Series([spec.get(DICT_MIN)]), errors="coerce")[0]
    hi = pd.to_numeric(pd.Series([spec.get(DICT_MAX)]), errors="coerce")[0]
    outside = present & num.notna() & (((num < lo) if pd.notna(lo) else False) | ((num > hi) if pd.notna(hi) else False))
    for i in values.index[outside]:
        out.append(_issue("RG0304", "error", raw.loc[i], field, values[i],
                          f"{field}: {values[i]} is outside the dictionary's range {spec.get(DICT_MIN)}-{spec.get(DICT_MAX)}",
                          file))
    return out


class _Export:
    """The records export with the mapping applied: role -> column, code decoding, visits."""

    def __init__(self, raw: pd.DataFrame, mapping: dict):
        self.raw, self.mapping = raw, mapping
        self.study = mapping["study"]

    def has(self, role: str) -> bool:
        return role in self.mapping["fields"]

    def col(self, rows: pd.DataFrame, role: str) -> pd.Series:
        field = self.mapping["fields"].get(role)
        if field is None or field not in rows.columns:
            return pd.Series(None, index=rows.index, dtype="str")
        return rows[field]

    def decoded(self, rows: pd.DataFrame, role: str) -> pd.Series:
        codes = {str(k): v for k, v in self.mapping["codes"].get(role, {}).items()}
        values = self.col(rows, role)
        return values.map(codes).where(values.notna()) if codes else values

    def rows_with(self, role: str) -> pd.DataFrame:
        return self.raw[self.col(self.raw, role).notna()] if self.has(role) else self.raw.iloc[0:0]

    def base(self, rows: pd.DataFrame, domain: str) -> pd.DataFrame:
        return pd.DataFrame({"STUDYID": self.study["STUDYID"], "DOMAIN": domain, "USUBJID": rows["USUBJID"],
                             "SRCFILE": rows["SRCFILE"], "SRCROW": rows["SRCROW"]}, index=rows.index)

    def visits(self, rows: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
        visits = self.mapping["visits"]
        df["VISIT"] = rows["redcap_event_name"].map(lambda e: visits.get(e, {}).get("VISIT"))
        df["VISITNUM"] = rows["redcap_event_name"].map(lambda e: visits.get(e, {}).get("VISITNUM"))
        return df


def _seq(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df[name] = df.groupby("USUBJID").cumcount().astype("float64") + 1
    return df


def ingest_redcap(folder: Path, mapping_path: Path | None = None) -> tuple[Assembled, list[dict], list[dict]]:
    rec_path, dict_path, mapping_path, arms_path = find_redcap_export(folder, mapping_path)
    require_file(rec_path, "REDCap records export")
    require_file(dict_path, "REDCap data dictionary")
    mapping = load_mapping(mapping_path)
    issues: list[dict] = []
    # the mapping runs on pandas until issue #20 reworks it; its tables leave as polars frames
    dictionary = read_csv(dict_path, issues).to_pandas()
    missing = [c for c in DICTIONARY_COLS if c not in dictionary.columns]
    if missing:
        raise InputError(f"{dict_path}: not a REDCap data dictionary (missing columns: {', '.join(missing)})")
    _check_mapping_against_dictionary(mapping, dictionary, mapping_path)
    raw, lines = read_csv_lines(rec_path, issues)
    raw = raw.to_pandas()
    missing = [c for c in ID_COLS if c not in raw.columns]
    if missing:
        raise InputError(f"{rec_path}: not a REDCap records export (missing column(s): {', '.join(missing)})")
    raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", None)
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", rec_path.name)
    subst = {k: v for k, v in mapping["study"].items()}
    raw["USUBJID"] = [mapping["usubjid"].format(record_id=r, **subst) for r in raw["record_id"].astype("str")]
    if "redcap_repeat_instrument" not in raw.columns:
        raw["redcap_repeat_instrument"] = None
    file = rec_path.name
    for role, field in mapping["fields"].items():
        checkbox = any(c.startswith(f"{field}___") for c in raw.columns)
        if field not in raw.columns and not checkbox:  # exports of a subset of forms omit fields
            raw[field] = None
            issues.append({"rule_id": "RG0004", "severity": "notice", "dataset": "REDCAP", "file": file,
                           "usubjid": None, "row": None, "column": field, "value": None,
                           "message": f"field {field} (role '{role}') is not in the records export; its variables stay empty"})
    issues += dictionary_issues(raw, dictionary, file)
    ex = _Export(raw, mapping)
    tables = {"dm": _dm(ex), "ex": _ex(ex), "ds": _ds(ex), "ae": _ae(ex), "sv": _sv(ex), "mh": _mh(ex), "rs": _rs(ex)}
    if lines is not None:  # rows that are not lines (blank lines, line breaks in notes): messages name the line
        for t in tables.values():
            t["SRCLINE"] = lines[t["SRCROW"].to_numpy(dtype="int64") - 1].astype("float64")
    tables = {d: type_columns(pl.from_pandas(t.reset_index(drop=True)), d, file, issues) for d, t in tables.items()}
    carried = set().union(*(set(t["SRCROW"].drop_nulls().cast(pl.Int64).to_list()) for t in tables.values()))
    unmapped = [{"SRCFILE": file, "SRCROW": float(r), "rule_id": "RG0006",
                 "reason": f"record row ({e}) holds no mapped data"}
                for r, e in zip(raw["SRCROW"], raw["redcap_event_name"]) if int(r) not in carried]
    files = [file_record(rec_path, "redcap", len(raw), "DM EX DS AE SV MH RS"),
             file_record(dict_path, "redcap-dictionary", len(dictionary), ""),
             file_record(mapping_path, "redcap-mapping", 0, "")]
    return Assembled(tables, unmapped, []), files, issues


def _race(ex: _Export, rows: pd.DataFrame) -> pd.Series:
    field = ex.mapping["fields"].get("race")
    codes = {str(k): v for k, v in ex.mapping["codes"].get("race", {}).items()}
    cols = [c for c in rows.columns if field and c.startswith(f"{field}___")]
    if not cols:
        return ex.decoded(rows, "race")  # a radio field instead of a checkbox
    ticked = rows[cols].eq("1")
    n = ticked.sum(axis=1)
    single = ticked.idxmax(axis=1).str.split("___").str[1].map(codes)
    return single.where(n == 1, pd.Series("MULTIPLE", index=rows.index).where(n > 1))


def _dm(ex: _Export) -> pd.DataFrame:
    demo = ex.rows_with("sex")
    demo = demo[~demo["USUBJID"].duplicated()]
    first_of = lambda role: ex.rows_with(role).drop_duplicates("USUBJID").set_index("USUBJID")  # noqa: E731
    drug, eos = first_of("drug_start"), first_of("eos_date")
    dm = ex.base(demo, "DM")
    dm["SUBJID"] = demo["record_id"]
    dm["SITEID"] = ex.study.get("SITEID")
    dm["RFSTDTC"] = demo["USUBJID"].map(ex.col(drug, "drug_start"))
    dm["RFENDTC"] = demo["USUBJID"].map(ex.col(eos, "eos_date"))
    dm["RFXSTDTC"] = dm["RFSTDTC"]
    dm["RFXENDTC"] = demo["USUBJID"].map(ex.col(drug, "drug_stop"))
    dm["AGE"] = ex.col(demo, "age")
    dm["AGEU"] = "YEARS"
    dm["SEX"] = ex.decoded(demo, "sex")
    dm["RACE"] = _race(ex, demo)
    dm["ETHNIC"] = ex.decoded(demo, "ethnicity")
    treated = dm["RFSTDTC"].notna()
    dm["ARM"] = dm["ACTARM"] = ex.study["ARM"]
    dm["ARMCD"] = dm["ACTARMCD"] = ex.study.get("ARMCD")
    dm.loc[~treated, ["ACTARM", "ACTARMCD"]] = None  # enrolled but never dosed
    dm["COUNTRY"] = ex.study.get("COUNTRY")
    return dm


def _ex(ex: _Export) -> pd.DataFrame:
    drug = ex.rows_with("drug_start")
    out = ex.base(drug, "EX")
    out["EXTRT"] = ex.study.get("EXTRT")
    out["EXDOSE"] = ex.col(drug, "drug_dose")
    out["EXDOSU"] = ex.study.get("EXDOSU")
    out["EXDOSFRQ"] = ex.decoded(drug, "drug_freq")
    out["EXROUTE"] = ex.study.get("EXROUTE")
    out["EXSTDTC"] = ex.col(drug, "drug_start")
    out["EXENDTC"] = ex.col(drug, "drug_stop")
    return _seq(out, "EXSEQ")


def _ds(ex: _Export) -> pd.DataFrame:
    consent = ex.rows_with("consent_date")
    ic = ex.base(consent, "DS")
    ic["DSTERM"] = ic["DSDECOD"] = "INFORMED CONSENT OBTAINED"
    ic["DSCAT"] = "PROTOCOL MILESTONE"
    ic["DSSTDTC"] = ex.col(consent, "consent_date")
    eos = ex.rows_with("eos_status")
    disp = ex.base(eos, "DS")
    disp["DSDECOD"] = ex.decoded(eos, "eos_status")
    disp["DSTERM"] = disp["DSDECOD"]
    disp["DSCAT"] = "DISPOSITION EVENT"
    disp["DSSTDTC"] = ex.col(eos, "eos_date")
    return _seq(pd.concat([ic, disp]).sort_values(["SRCROW"], kind="stable"), "DSSEQ")


def _ae(ex: _Export) -> pd.DataFrame:
    form = ex.mapping.get("adverse_event_form")
    rows = ex.raw[ex.raw["redcap_repeat_instrument"] == form] if form else ex.rows_with("ae_term")
    ae = ex.base(rows, "AE")
    for var, role in (("AETERM", "ae_term"), ("AEDECOD", "ae_pt"), ("AEBODSYS", "ae_soc"),
                      ("AESTDTC", "ae_start"), ("AEENDTC", "ae_end")):
        ae[var] = ex.col(rows, role)
    for var, role in (("AESEV", "ae_severity"), ("AESER", "ae_serious"), ("AEREL", "ae_related")):
        ae[var] = ex.decoded(rows, role)
    return _seq(ae, "AESEQ")


def _sv(ex: _Export) -> pd.DataFrame:
    rows = ex.rows_with("salt_date")
    sv = ex.visits(rows, ex.base(rows, "SV"))
    sv["SVSTDTC"] = sv["SVENDTC"] = ex.col(rows, "salt_date")
    return sv


def _mh(ex: _Export) -> pd.DataFrame:
    demo = ex.rows_with("aa_subtype")
    sub = ex.base(demo, "MH")
    sub["MHDECOD"] = ex.decoded(demo, "aa_subtype")
    sub["MHTERM"] = sub["MHDECOD"].str.capitalize()
    sub["MHCAT"] = AA_SUBTYPE_CAT
    sub["MHSTDTC"] = ex.col(demo, "aa_onset")
    history = ex.decoded(demo, "atopic_history")
    atopic = demo[history.eq("Y").fillna(False)]
    hist = ex.base(atopic, "MH")
    hist["MHTERM"] = "atopic dermatitis"
    hist["MHDECOD"] = "Dermatitis atopic"
    hist["MHCAT"] = "GENERAL MEDICAL HISTORY"
    return _seq(pd.concat([sub, hist]).sort_values(["SRCROW"], kind="stable"), "MHSEQ")


def _rs(ex: _Export) -> pd.DataFrame:
    rows = ex.rows_with("salt_date")
    parts = []
    for order, (code, role) in enumerate(SALT_ROLES.items()):
        values = ex.col(rows, role)
        present = rows[values.notna()]
        part = ex.visits(present, ex.base(present, "RS"))
        part["RSCAT"] = "SALT"
        part["RSTESTCD"] = code
        part["RSTEST"] = SALT_TESTS[code]
        part["RSORRES"] = part["RSSTRESC"] = part["RSSTRESN"] = values[values.notna()]
        part["RSORRESU"] = part["RSSTRESU"] = "%"
        part["RSDTC"] = ex.col(present, "salt_date")
        part["_order"] = order
        parts.append(part)
    rs = pd.concat(parts).sort_values(["SRCROW", "_order"], kind="stable").drop(columns="_order")
    return _seq(rs, "RSSEQ")
