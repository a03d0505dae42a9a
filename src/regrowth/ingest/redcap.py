"""REDCap project export (records CSV + data dictionary CSV + mapping YAML) to the canonical model.

The records export is flat, as REDCap's "CSV / Microsoft Excel (raw data)" writes it: one row per
record (classic project) or per record and event (longitudinal: redcap_event_name), an extra row
per instance of a repeating form, checkbox fields as field___code columns, choice fields as codes.

The data dictionary is the contract: the record id is its first field (unless the mapping names
another), every choice field's codes and labels come from it, and values are checked against it
(choices, validation type, min/max), each problem reported with its record row. The mapping says
which field plays which role, which event (or visit field code) is which visit, which REDCap arm
is which planned arm, and where a dictionary label is not the CDISC term, which term it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import polars as pl
import yaml

from regrowth.errors import InputError
from regrowth.exports import find_redcap_export
from regrowth.ingest.common import file_record, read_issue, require_file, type_columns
from regrowth.ingest.sdtm import Assembled, read_csv, read_csv_lines
from regrowth.model import AA_SUBTYPE_CAT, SALT_TESTS

EVENT, REPEAT_FORM, DAG = "redcap_event_name", "redcap_repeat_instrument", "redcap_data_access_group"
DICT_FIELD, DICT_FORM, DICT_TYPE, DICT_LABEL = "Variable / Field Name", "Form Name", "Field Type", "Field Label"
DICT_CHOICES, DICT_VALIDATION = "Choices, Calculations, OR Slider Labels", "Text Validation Type OR Show Slider Number"
DICT_MIN, DICT_MAX = "Text Validation Min", "Text Validation Max"
DICTIONARY_COLS = [DICT_FIELD, DICT_FORM, DICT_TYPE, DICT_CHOICES]
CHOICE_TYPES = ("radio", "dropdown", "yesno", "truefalse", "checkbox")
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
YES_NO_TERMS = {"Yes": "Y", "No": "N", "True": "Y", "False": "N"}  # yesno / truefalse fields as CDISC flags
SALT_ROLES = {"SALT01": "salt_top", "SALT02": "salt_back", "SALT03": "salt_right", "SALT04": "salt_left",
              "SALTTOT": "salt_total"}
# Roles a required SDTM variable depends on, and when (which other role makes the domain present).
REQUIRED_ROLES = {"sex": ("DM.SEX", None), "drug_start": ("EX.EXSTDTC", "drug_stop"),
                  "ae_term": ("AE.AETERM", "ae_pt"), "salt_date": ("RS.RSDTC", "salt_total")}
DATE_YMD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ARM_SUFFIX = re.compile(r"_arm_(\d+)$")
MAPPING_HELP = "see the README's REDCap section"


@cache
def _mapping_schema() -> dict:
    return yaml.safe_load(resources.files("regrowth.ingest").joinpath("redcap_mapping.schema.yaml").read_text())


def _text_keys(value):
    """YAML reads `1:` as a number and `yes:` as a boolean: keys of arms, visits and codes are
    codes and event names, compared as REDCap writes them (text)."""
    if isinstance(value, dict):
        return {("1" if k is True else "0" if k is False else str(k)): v for k, v in value.items()}
    return value


def load_mapping(path: Path) -> dict:
    require_file(path, "REDCap mapping file")
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    if isinstance(mapping, dict):
        for key in ("arms", "visits"):
            mapping[key] = _text_keys(mapping.get(key)) if key in mapping else mapping.get(key)
            if mapping[key] is None:
                del mapping[key]
        if isinstance(mapping.get("codes"), dict):
            mapping["codes"] = {role: _text_keys(c) for role, c in mapping["codes"].items()}
    errors = sorted(jsonschema.Draft202012Validator(_mapping_schema()).iter_errors(mapping), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise InputError(f"{path}: invalid REDCap mapping at {where}: {e.message} ({MAPPING_HELP})")
    mapping.setdefault("usubjid", "{STUDYID}-{record_id}")
    mapping.setdefault("codes", {})
    mapping.setdefault("visits", {})
    mapping.setdefault("age_reference", "first_dose")
    return mapping


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str]  # code -> label, for choice fields
    validation: str
    low: str
    high: str


def parse_choices(text) -> dict[str, str]:
    """'1, Female | 2, Male' -> {'1': 'Female', '2': 'Male'} (a label may hold commas)."""
    out = {}
    for item in str(text or "").split("|"):
        if item.strip():
            code, _, label = item.partition(",")
            out[code.strip()] = label.strip() or code.strip()
    return out


def read_dictionary(path: Path, issues: list[dict]) -> dict[str, Field]:
    dictionary = read_csv(path, issues).to_pandas()
    missing = [c for c in DICTIONARY_COLS if c not in dictionary.columns]
    if missing:
        raise InputError(f"{path}: not a REDCap data dictionary (missing columns: {', '.join(missing)})")
    fields = {}
    for spec in dictionary.fillna("").to_dict("records"):
        ftype = str(spec[DICT_TYPE]).strip()
        choices = FIXED_CHOICES.get(ftype) or (parse_choices(spec[DICT_CHOICES]) if ftype in CHOICE_TYPES else {})
        name = str(spec[DICT_FIELD]).strip()
        fields[name] = Field(name, str(spec[DICT_FORM]), ftype, str(spec.get(DICT_LABEL, "")), choices,
                             str(spec.get(DICT_VALIDATION, "") or ""), str(spec.get(DICT_MIN, "") or ""),
                             str(spec.get(DICT_MAX, "") or ""))
    if not fields:
        raise InputError(f"{path}: the REDCap data dictionary lists no fields")
    return fields


def _check_mapping_against_dictionary(mapping: dict, fields: dict[str, Field], path: Path) -> None:
    roles = mapping["fields"]
    unknown = sorted(f"{role} -> {field}" for role, field in roles.items() if field not in fields)
    problems = [f"mapped field(s) not in the data dictionary: {', '.join(unknown)}"] if unknown else []
    unmapped = [f"{var} (role '{role}')" for role, (var, when) in REQUIRED_ROLES.items()
                if role not in roles and (when is None or when in roles)]
    if unmapped:
        problems.append(f"unmapped required variable(s): {', '.join(unmapped)}")
    if mapping.get("record_id") and mapping["record_id"] not in fields:
        problems.append(f"record_id {mapping['record_id']} is not a field of the data dictionary")
    for role, given in mapping["codes"].items():
        field = fields.get(roles.get(role, ""))
        if role not in roles:
            problems.append(f"codes.{role}: role {role} is not mapped under fields")
        elif field is None:
            continue
        elif not field.choices:
            problems.append(f"codes.{role}: field {field.name} is a {field.type} field, without choices")
        else:
            known = set(field.choices) | set(field.choices.values())
            for key in given:
                if key not in known:
                    accepted = "; ".join(f"{c} ({lab})" for c, lab in field.choices.items())
                    problems.append(f"codes.{role}.{key}: not a code or label of field {field.name} "
                                    f"(its choices: {accepted})")
    for role in ("arm", "visit"):
        if role in roles and fields.get(roles[role]) is not None and not fields[roles[role]].choices \
                and fields[roles[role]].type not in ("text", "calc"):
            problems.append(f"fields.{role}: field {roles[role]} is a {fields[roles[role]].type} field")
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems) + f" ({MAPPING_HELP})")


def _issue(rule, row, field, value, message, file) -> dict:
    return read_issue(rule, "REDCAP", file, field, message, value=value, usubjid=row["USUBJID"], row=int(row["SRCROW"]))


def dictionary_issues(raw: pd.DataFrame, fields: dict[str, Field], file: str) -> list[dict]:
    """Check values against the data dictionary: choices, validation type, min/max."""
    out: list[dict] = []
    for field in fields.values():
        if field.type in ("radio", "dropdown", "yesno", "truefalse") and field.name in raw.columns:
            values = raw[field.name]
            for i in values.index[values.notna() & ~values.isin(list(field.choices))]:
                out.append(_issue("RG0206", raw.loc[i], field.name, values[i],
                                  f"{field.name}: code '{values[i]}' is not one of the dictionary's choices "
                                  f"({', '.join(field.choices)})", file))
        elif field.type == "checkbox":
            for col in [c for c in raw.columns if c.startswith(f"{field.name}___")]:
                values = raw[col]
                for i in values.index[values.notna() & ~values.isin(["0", "1"])]:
                    out.append(_issue("RG0206", raw.loc[i], col, values[i],
                                      f"{col}: checkbox value '{values[i]}' is not 0 or 1", file))
                code = col.split("___", 1)[1]
                if code not in field.choices and code.lower() not in {c.lower() for c in field.choices}:
                    for i in values.index[values.eq("1")]:
                        out.append(_issue("RG0206", raw.loc[i], col, values[i],
                                          f"{col}: box '{code}' is not one of the dictionary's choices "
                                          f"({', '.join(field.choices)})", file))
        elif field.type == "text" and field.name in raw.columns:
            out += _text_issues(raw, field, file)
    return out


def _text_issues(raw, field: Field, file) -> list[dict]:
    values = raw[field.name]
    present = values.notna()
    out = []
    if field.validation.startswith("date_"):
        bad = present & ~values.astype("str").str.match(DATE_YMD.pattern)
        parsed = pd.to_datetime(values.where(present & ~bad), format="%Y-%m-%d", errors="coerce")
        bad |= present & ~bad & parsed.isna()
        for i in values.index[bad]:
            out.append(_issue("RG0207", raw.loc[i], field.name, values[i],
                              f"{field.name}: '{values[i]}' is not a valid date (YYYY-MM-DD)", file))
        return out
    if field.validation not in ("integer", "number"):
        return out
    num = pd.to_numeric(values, errors="coerce")
    bad = present & num.isna()
    if field.validation == "integer":
        bad |= present & num.notna() & (num % 1 != 0)
    for i in values.index[bad]:
        out.append(_issue("RG0207", raw.loc[i], field.name, values[i],
                          f"{field.name}: '{values[i]}' is not a valid {field.validation}", file))
    lo = pd.to_numeric(pd.Series([field.low]), errors="coerce")[0]
    hi = pd.to_numeric(pd.Series([field.high]), errors="coerce")[0]
    outside = present & num.notna() & (((num < lo) if pd.notna(lo) else False) | ((num > hi) if pd.notna(hi) else False))
    for i in values.index[outside]:
        out.append(_issue("RG0304", raw.loc[i], field.name, values[i],
                          f"{field.name}: {values[i]} is outside the dictionary's range {field.low}-{field.high}",
                          file))
    return out


def _role_codelists() -> dict[str, tuple[str, list[str], dict[str, str]]]:
    """role -> (variable, its CDISC codelist, synonyms) for the choice roles whose variable has one."""
    from regrowth.ingest.contract import TERM_SYNONYMS
    from regrowth.model import NCOMPLT_CT
    from regrowth.validate.checks import AESEV_CT, SEX_CT

    return {"sex": ("DM.SEX", SEX_CT, TERM_SYNONYMS.get("SEX", {})), "eos_status": ("DS.DSDECOD", NCOMPLT_CT, {}),
            "ae_severity": ("AE.AESEV", AESEV_CT, {})}


def _check_terms(ex: "_Export", mapping_path: Path) -> None:
    """A choice the export uses must decode to a term of its variable's codelist: a label that is
    none ('Withdrew consent') stops here naming the codes key to add, not later as a value of
    the canonical table nobody can find in the export."""
    problems = []
    for role, (variable, codelist, synonyms) in _role_codelists().items():
        field = ex.field(role)
        if field is None or not field.choices or field.name not in ex.raw.columns:
            continue
        terms = ex.terms(role)
        used = [c for c in field.choices if c in set(ex.raw[field.name].dropna())]
        for code in used:
            term = str(terms[code]).strip().upper()
            if synonyms.get(term, term) not in codelist:
                problems.append(f"choice {code} ({field.choices[code]}) of field {field.name} gives {variable} "
                                f"'{term}', not a CDISC term; add codes: {{{role}: {{\"{code}\": <one of "
                                f"{', '.join(codelist)}>}}}}")
    if problems:
        raise InputError(f"{mapping_path}: " + "; ".join(problems) + f" ({MAPPING_HELP})")


def _refuse_labels_export(raw: pd.DataFrame, fields: dict[str, Field], mapping: dict, path: Path) -> None:
    """REDCap can export choice labels instead of codes: refused with that reason (a label read as a
    code would be reported as hundreds of unknown codes)."""
    for role, name in mapping["fields"].items():
        field = fields.get(name)
        if field is None or field.type not in ("radio", "dropdown") or name not in raw.columns:
            continue
        values = set(raw[name].dropna())
        labels = set(field.choices.values()) - set(field.choices)
        if values and values <= labels:
            raise InputError(f"{path}: field {name} holds choice labels ({', '.join(sorted(values)[:3])}), not codes: "
                             "this is an export of labels; export the records as 'CSV / Microsoft Excel (raw data)'")


class _Export:
    """The records export with the mapping applied: role -> column, code decoding, visits, arms."""

    def __init__(self, raw: pd.DataFrame, mapping: dict, fields: dict[str, Field], arm_names: dict[str, str]):
        self.raw, self.mapping, self.fields = raw, mapping, fields
        self.study = mapping["study"]
        self.arm_names = arm_names

    def has(self, role: str) -> bool:
        return role in self.mapping["fields"]

    def field(self, role: str) -> Field | None:
        return self.fields.get(self.mapping["fields"].get(role, ""))

    def col(self, rows: pd.DataFrame, role: str) -> pd.Series:
        field = self.mapping["fields"].get(role)
        if field is None or field not in rows.columns:
            return pd.Series(None, index=rows.index, dtype="object")
        return rows[field]

    def terms(self, role: str) -> dict[str, str]:
        """Code -> CDISC term of a choice role: the mapping's term for the code or its label, else
        Y/N for a yes/no field, else the dictionary's label (normalised to the controlled term
        by regrowth.ingest.contract, and reported there if it is none)."""
        field = self.field(role)
        given = self.mapping["codes"].get(role, {})
        if field is None or not field.choices:
            return dict(given)
        out = {}
        for code, label in field.choices.items():
            if code in given:
                out[code] = given[code]
            elif label in given:
                out[code] = given[label]
            elif field.type in FIXED_CHOICES:
                out[code] = YES_NO_TERMS[label]
            else:
                out[code] = label
        return out

    def decoded(self, rows: pd.DataFrame, role: str) -> pd.Series:
        """The role's values as CDISC terms; a code the dictionary does not define stays as
        exported (reported as RG0206, and by the variable's own checks), never a silent null."""
        values = self.col(rows, role)
        terms = self.terms(role)
        return values.map(lambda v: terms.get(v, v) if isinstance(v, str) else v) if terms else values

    def rows_with(self, role: str) -> pd.DataFrame:
        return self.raw[self.col(self.raw, role).notna()] if self.has(role) else self.raw.iloc[0:0]

    def base(self, rows: pd.DataFrame, domain: str) -> pd.DataFrame:
        return pd.DataFrame({"STUDYID": self.study["STUDYID"], "DOMAIN": domain, "USUBJID": rows["USUBJID"],
                             "SRCFILE": rows["SRCFILE"], "SRCROW": rows["SRCROW"]}, index=rows.index)

    def visit_keys(self, rows: pd.DataFrame) -> pd.Series:
        """What identifies each row's visit in `visits`: the visit field's code, else the event."""
        if self.has("visit"):
            return self.col(rows, "visit")
        if EVENT in rows.columns:
            return rows[EVENT]
        return pd.Series(None, index=rows.index, dtype="object")

    def visit_of(self, key) -> dict | None:
        """A `visits` entry by event name (with or without its _arm_N), or by visit code or label."""
        if not isinstance(key, str):
            return None
        visits = self.mapping["visits"]
        found = visits.get(key) or visits.get(ARM_SUFFIX.sub("", key))
        if found is None and self.has("visit") and self.field("visit") is not None:
            found = visits.get(self.field("visit").choices.get(key, ""))
        return found

    def visits(self, rows: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
        found = self.visit_keys(rows).map(self.visit_of)
        df["VISIT"] = found.map(lambda v: v["VISIT"] if v else None)
        df["VISITNUM"] = found.map(lambda v: v["VISITNUM"] if v else None)
        return df


def _seq(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df[name] = df.groupby("USUBJID").cumcount().astype("float64") + 1
    return df


def read_arm_names(path: Path | None, issues: list[dict]) -> dict[str, str]:
    """REDCap's arms file (arm_num, name) as {arm number: name}."""
    if path is None:
        return {}
    arms = read_csv(path, issues).to_pandas()
    if not {"arm_num", "name"} <= set(arms.columns):
        raise InputError(f"{path}: not a REDCap arms file (columns arm_num and name expected, found "
                         f"{', '.join(arms.columns)})")
    return {str(n).strip(): str(name).strip() for n, name in zip(arms["arm_num"], arms["name"]) if pd.notna(n)}


def ingest_redcap(folder: Path, mapping_path: Path | None = None) -> tuple[Assembled, list[dict], list[dict]]:
    rec_path, dict_path, mapping_path, arms_path = find_redcap_export(folder, mapping_path)
    require_file(rec_path, "REDCap records export")
    require_file(dict_path, "REDCap data dictionary")
    mapping = load_mapping(mapping_path)
    issues: list[dict] = []
    fields = read_dictionary(dict_path, issues)
    _check_mapping_against_dictionary(mapping, fields, mapping_path)
    record_id = mapping.get("record_id") or next(iter(fields))
    raw, lines = read_csv_lines(rec_path, issues)
    raw = raw.to_pandas()
    if record_id not in raw.columns:
        first = next(iter(fields.values()))
        if first.label and first.label in raw.columns:
            raise InputError(f"{rec_path}: the columns are field labels ('{first.label}'), not field names: export "
                             "the records as 'CSV / Microsoft Excel (raw data)' with raw variable names as headers")
        named = "the mapping's record_id" if mapping.get("record_id") else "the data dictionary's first field"
        raise InputError(f"{rec_path}: not a REDCap records export of this project: no column {record_id} (the record "
                         f"id, {named}); set record_id in {mapping_path.name} to the field that holds the record id")
    raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", None)
    _refuse_labels_export(raw, fields, mapping, rec_path)
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", rec_path.name)
    raw["_record"] = raw[record_id].astype("str")
    if REPEAT_FORM not in raw.columns:
        raw[REPEAT_FORM] = None
    file = rec_path.name
    ex = _Export(raw, mapping, fields, read_arm_names(arms_path, issues))
    raw["_site"] = _sites(ex)
    try:
        raw["USUBJID"] = [mapping["usubjid"].format(**{**ex.study, "SITEID": s or "", "record_id": r})
                          for r, s in zip(raw["_record"], raw["_site"])]
    except KeyError as exc:
        raise InputError(f"{mapping_path}: usubjid {mapping['usubjid']!r} names {{{exc.args[0]}}}, which is not "
                         "one of {STUDYID}, {SITEID}, {record_id} or a study constant") from None
    for role, field in mapping["fields"].items():
        checkbox = any(c.startswith(f"{field}___") for c in raw.columns)
        if field not in raw.columns and not checkbox:  # exports of a subset of forms omit fields
            raw[field] = None
            issues.append(read_issue("RG0004", "REDCAP", file, field,
                                     f"field {field} (role '{role}') is not in the records export; its variables stay empty"))
    issues += dictionary_issues(raw, fields, file)
    _check_terms(ex, mapping_path)
    _check_salt_visits(ex, mapping_path)
    arms = _planned_arms(ex, mapping_path)
    tables = {"dm": _dm(ex, arms, record_id), "ex": _ex(ex), "ds": _ds(ex), "ae": _ae(ex), "sv": _sv(ex),
              "mh": _mh(ex), "rs": _rs(ex)}
    if lines is not None:  # rows that are not lines (blank lines, line breaks in notes): messages name the line
        for t in tables.values():
            t["SRCLINE"] = lines[t["SRCROW"].to_numpy(dtype="int64") - 1].astype("float64")
    tables = {d: type_columns(pl.from_pandas(t.reset_index(drop=True)), d, file, issues) for d, t in tables.items()}
    carried = set().union(*(set(t["SRCROW"].drop_nulls().cast(pl.Int64).to_list()) for t in tables.values()))
    where = raw[EVENT] if EVENT in raw.columns else raw[REPEAT_FORM].fillna("record")
    unmapped = [{"SRCFILE": file, "SRCROW": float(r), "rule_id": "RG0006",
                 "reason": f"record row ({e}) holds no mapped data"}
                for r, e in zip(raw["SRCROW"], where) if int(r) not in carried]
    files = [file_record(rec_path, "redcap", len(raw), "DM EX DS AE SV MH RS"),
             file_record(dict_path, "redcap-dictionary", len(fields), ""),
             file_record(mapping_path, "redcap-mapping", 0, "")]
    if arms_path is not None:
        files.append(file_record(arms_path, "redcap-arms", len(ex.arm_names), ""))
    return Assembled(tables, unmapped, []), files, issues


def _per_record(ex: _Export, values: pd.Series, how: str = "first") -> pd.Series:
    """One value per record (index: record id) of a per-row series: the first non-missing, or
    the earliest or latest (ISO dates compare as text)."""
    present = values.dropna()
    grouped = present.groupby(ex.raw.loc[present.index, "_record"], sort=False)
    return getattr(grouped, how)()


def _sites(ex: _Export) -> pd.Series:
    """Each row's site: the site role, else the data access group, else the study constant."""
    if ex.has("site"):  # an identifier: the code as exported, unless codes.site names the site id
        given = ex.mapping["codes"].get("site", {})
        values = ex.col(ex.raw, "site").map(lambda v: given.get(v, v) if isinstance(v, str) else v)
    elif DAG in ex.raw.columns:
        values = ex.raw[DAG]
    else:
        return pd.Series(ex.study.get("SITEID"), index=ex.raw.index, dtype="object")
    per_record = _per_record(ex, values)
    return ex.raw["_record"].map(per_record).where(lambda s: s.notna(), ex.study.get("SITEID"))


def _check_salt_visits(ex: _Export, mapping_path: Path) -> None:
    """Every row with a SALT score needs a visit: unlisted events or visit codes would leave
    RS records without VISITNUM (and two of them would share a key)."""
    roles = [r for r in SALT_ROLES.values() if ex.has(r)]
    if not roles:
        return
    scored = ex.raw[pd.concat([ex.col(ex.raw, r).notna() for r in roles], axis=1).any(axis=1)]
    keys = ex.visit_keys(scored)
    unlisted = sorted({str(k) for k in keys.dropna() if ex.visit_of(k) is None})
    if unlisted:
        key = ARM_SUFFIX.sub("", unlisted[0])  # an event name without _arm_N serves every arm
        raise InputError(f"{mapping_path}: SALT scores at {'event' if not ex.has('visit') else 'visit code'}(s) "
                         f"{', '.join(unlisted)} not listed under visits; add each (e.g. visits: {{{key}: "
                         f"{{VISITNUM: <a number no other visit has>, VISIT: <its name>}}}}) ({MAPPING_HELP})")
    if keys.isna().any():
        row = int(scored.loc[keys.isna(), "SRCROW"].iloc[0])
        what = f"field {ex.mapping['fields']['visit']} is empty" if ex.has("visit") else \
            "a classic project has no events; map fields.visit to the field that names the visit"
        raise InputError(f"{ex.raw['SRCFILE'].iloc[0]}: row {row} holds a SALT score without a visit ({what}) "
                         f"({MAPPING_HELP})")


@dataclass
class _Arm:
    ARM: str | None
    ARMCD: str | None


def _planned_arms(ex: _Export, mapping_path: Path) -> dict[str, _Arm]:
    """Record id -> planned arm: from the mapped arm field (randomisation), else the REDCap arm of
    the record's events (named by `arms` or the arms file), else the study's one ARM."""
    arms_map = ex.mapping.get("arms", {})
    records = list(dict.fromkeys(ex.raw["_record"]))
    if ex.has("arm"):
        field = ex.field("arm")
        codes = _per_record(ex, ex.col(ex.raw, "arm"))
        out = {}
        for r in records:
            code = codes.get(r)
            if code is None:
                out[r] = _Arm(None, None)
            elif code in arms_map:
                out[r] = _Arm(arms_map[code]["ARM"], arms_map[code].get("ARMCD"))
            else:  # the dictionary's label (an unknown code is reported as RG0206 and kept)
                out[r] = _Arm(field.choices.get(code, code) if field else code, code)
        return out
    if EVENT in ex.raw.columns:
        numbers = ex.raw[EVENT].str.extract(ARM_SUFFIX, expand=False)
        per_record = numbers.dropna().groupby(ex.raw.loc[numbers.dropna().index, "_record"], sort=False).unique()
        several = {r: sorted(v) for r, v in per_record.items() if len(v) > 1}
        if several:
            r, v = next(iter(several.items()))
            raise InputError(f"{ex.raw['SRCFILE'].iloc[0]}: record {r} has events in arms {', '.join(v)}: a subject's "
                             "planned arm must be one; map fields.arm to the randomisation field instead")
        seen = sorted({v[0] for v in per_record}, key=int)
        if len(seen) > 1 or (seen and (arms_map or not ex.study.get("ARM"))):
            unnamed = [n for n in seen if n not in arms_map and n not in ex.arm_names]
            if unnamed:
                one = " or set study.ARM (a project with one arm)" if len(seen) == 1 else ""
                raise InputError(f"{mapping_path}: no planned arm: the records are in REDCap arm(s) {', '.join(seen)}; "
                                 f"name arm(s) {', '.join(unnamed)} under arms (e.g. arms: {{\"{unnamed[0]}\": {{ARM: "
                                 f"Placebo, ARMCD: PBO}}}}){one}, or put REDCap's arms file (<Project>_Arms_<date>.csv) "
                                 f"beside the export ({MAPPING_HELP})")

            def arm(n):
                if n is None:
                    return _Arm(None, None)
                given = arms_map.get(n)
                return _Arm(given["ARM"], given.get("ARMCD")) if given else _Arm(ex.arm_names[n], None)

            return {r: arm(per_record[r][0] if r in per_record else None) for r in records}
    if not ex.study.get("ARM"):
        raise InputError(f"{mapping_path}: no planned arm: set study.ARM for a project with one arm, or map "
                         f"fields.arm to the randomisation field, or use REDCap arms ({MAPPING_HELP})")
    return {r: _Arm(ex.study["ARM"], ex.study.get("ARMCD")) for r in records}


def _race(ex: _Export, rows: pd.DataFrame) -> pd.Series:
    field = ex.mapping["fields"].get("race")
    terms = ex.terms("race")
    cols = [c for c in rows.columns if field and c.startswith(f"{field}___")]
    if not cols:
        return ex.decoded(rows, "race")  # a radio field instead of a checkbox
    ticked = rows[cols].eq("1")
    n = ticked.sum(axis=1)
    # REDCap writes a box's code lower-cased in the column name
    lowered = {c.lower(): t for c, t in terms.items()}
    box = ticked.idxmax(axis=1).str.split("___").str[1]
    single = box.map(lambda b: terms.get(b, lowered.get(b.lower(), b)))
    return single.where(n == 1, pd.Series("MULTIPLE", index=rows.index).where(n > 1))


def _age(ex: _Export, demo: pd.DataFrame, first_dose: pd.Series, consent: pd.Series) -> pd.Series:
    """AGE as mapped, else whole years from date of birth to first dose (or consent: age_reference)."""
    if ex.has("age") or not ex.has("date_of_birth"):
        return ex.col(demo, "age")
    birth = pd.to_datetime(demo["_record"].map(_per_record(ex, ex.col(ex.raw, "date_of_birth"))),
                           format="%Y-%m-%d", errors="coerce")
    ref = first_dose if ex.mapping["age_reference"] == "first_dose" else consent
    ref = pd.to_datetime(ref, format="%Y-%m-%d", errors="coerce")
    years = ref.dt.year - birth.dt.year - ((ref.dt.month * 100 + ref.dt.day) < (birth.dt.month * 100 + birth.dt.day))
    return years.where(birth.notna() & ref.notna()).map(lambda v: None if pd.isna(v) else str(int(v)))


def _dm(ex: _Export, arms: dict[str, _Arm], record_id: str) -> pd.DataFrame:
    demo = ex.rows_with("sex")
    demo = demo[~demo["USUBJID"].duplicated()]
    per = lambda role, how="first": demo["_record"].map(_per_record(ex, ex.col(ex.raw, role), how))  # noqa: E731
    dm = ex.base(demo, "DM")
    dm["SUBJID"] = demo["_record"]
    dm["SITEID"] = demo["_site"]
    # repeating exposure forms: first dose is the earliest start, last dose the latest stop
    dm["RFSTDTC"] = per("drug_start", "min")
    dm["RFENDTC"] = per("eos_date")
    dm["RFXSTDTC"] = dm["RFSTDTC"]
    dm["RFXENDTC"] = per("drug_stop", "max")
    if ex.has("date_of_birth"):
        dm["BRTHDTC"] = per("date_of_birth")
    dm["AGE"] = _age(ex, demo, dm["RFSTDTC"], per("consent_date"))
    dm["AGEU"] = "YEARS"
    dm["SEX"] = ex.decoded(demo, "sex")
    dm["RACE"] = _race(ex, demo)
    dm["ETHNIC"] = ex.decoded(demo, "ethnicity")
    treated = dm["RFSTDTC"].notna()
    planned = demo["_record"].map(arms)
    dm["ARM"] = dm["ACTARM"] = planned.map(lambda a: a.ARM)
    dm["ARMCD"] = dm["ACTARMCD"] = planned.map(lambda a: a.ARMCD)
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


def _milestone(ex: _Export, role: str, term: str, category: str = "PROTOCOL MILESTONE") -> pd.DataFrame:
    rows = ex.rows_with(role)
    rows = rows[~rows["USUBJID"].duplicated()]
    out = ex.base(rows, "DS")
    out["DSTERM"] = out["DSDECOD"] = term
    out["DSCAT"] = category
    out["DSSTDTC"] = ex.col(rows, role)
    return out


def _ds(ex: _Export) -> pd.DataFrame:
    parts = [_milestone(ex, "consent_date", "INFORMED CONSENT OBTAINED"), _milestone(ex, "randomisation_date", "RANDOMIZED")]
    eos = ex.rows_with("eos_status")
    disp = ex.base(eos, "DS")
    disp["DSDECOD"] = ex.decoded(eos, "eos_status")
    disp["DSTERM"] = disp["DSDECOD"]
    disp["DSCAT"] = "DISPOSITION EVENT"
    disp["DSSTDTC"] = ex.col(eos, "eos_date")
    parts.append(disp)
    # a withdrawal date is the disposition of a subject whose end-of-study form says none
    withdrawn = _milestone(ex, "withdrawal_date", "WITHDRAWAL BY SUBJECT", "DISPOSITION EVENT")
    parts.append(withdrawn[~withdrawn["USUBJID"].isin(set(disp["USUBJID"]))])
    return _seq(pd.concat(parts).sort_values(["SRCROW"], kind="stable"), "DSSEQ")


def _ae(ex: _Export) -> pd.DataFrame:
    form = ex.mapping.get("adverse_event_form")
    rows = ex.raw[ex.raw[REPEAT_FORM] == form] if form else ex.rows_with("ae_term")
    ae = ex.base(rows, "AE")
    for var, role in (("AETERM", "ae_term"), ("AEDECOD", "ae_pt"), ("AEBODSYS", "ae_soc"),
                      ("AESTDTC", "ae_start"), ("AEENDTC", "ae_end")):
        ae[var] = ex.col(rows, role)
    for var, role in (("AESEV", "ae_severity"), ("AESER", "ae_serious"), ("AEREL", "ae_related")):
        ae[var] = ex.decoded(rows, role)
    return _seq(ae, "AESEQ")


def _sv(ex: _Export) -> pd.DataFrame:
    """One SV record per subject and mapped visit that holds data: dated by the visit date role,
    else the SALT date, else the visit's earliest date among the mapped date roles."""
    keys = ex.visit_keys(ex.raw)
    listed = keys.map(lambda k: ex.visit_of(k) is not None)
    mapped = [f for f in ex.mapping["fields"].values() if f in ex.raw.columns and f != ex.mapping["fields"].get("visit")]
    holds_data = ex.raw[mapped].notna().any(axis=1) if mapped else listed & False
    rows = ex.raw[listed & holds_data]
    sv = ex.visits(rows, ex.base(rows, "SV"))
    date = pd.Series(None, index=rows.index, dtype="object")
    for role in ("visit_date", "salt_date"):
        date = date.where(date.notna(), ex.col(rows, role))
    sv["SVSTDTC"] = date
    # one record per subject and visit: its first dated row (a visit's repeat instances share it)
    sv = sv.assign(_undated=sv["SVSTDTC"].isna()).sort_values(["USUBJID", "VISITNUM", "_undated"], kind="stable")
    sv = sv[~sv.duplicated(["USUBJID", "VISITNUM"])].drop(columns="_undated").sort_values("SRCROW", kind="stable")
    sv["SVENDTC"] = sv["SVSTDTC"]
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
