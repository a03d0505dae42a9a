"""The canonical model's variable contracts, applied to each dataset as an export delivers it.

Run once per trial (or partition) by `regrowth.ingest.canonical`, before the tables are given
their canonical columns: only then is it known which variables the export lacks.

- presence: a required variable, or one a derivation reads, that is absent is an error naming
  the file, the column and what needs it; a column one edit away from a canonical name (or a
  known synonym) gets "did you mean";
- values: controlled terms trimmed and upper-cased, Y/N flags read from Yes/No, 1/0,
  True/False, each change reported as a notice with its count, so validation and derivation
  compare one value;
- fallback: exposure from DM RFXSTDTC/RFXENDTC when the export has no EX dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.model import AA_SUBTYPE_CAT, AA_SUBTYPES, DOMAINS, FLAG, NCOMPLT_CT, STR, SYNONYMS, TERM, TRACE

FLAG_VALUES = {"Y": "Y", "YES": "Y", "TRUE": "Y", "T": "Y", "1": "Y",
               "N": "N", "NO": "N", "FALSE": "N", "F": "N", "0": "N"}
# Terms whose CDISC code is a letter: the word is unambiguous (SEX codelist C66731)
TERM_SYNONYMS = {"SEX": {"FEMALE": "F", "MALE": "M", "UNKNOWN": "U"}}
CANONICAL = {d: {v.name for v in spec.variables} | {v.name for v in TRACE} for d, spec in DOMAINS.items()}


def _issue(rule_id: str, severity: str, dataset: str, file, column, message: str, *, value=None,
           usubjid=None, row=None) -> dict:
    return {"rule_id": rule_id, "severity": severity, "dataset": dataset, "file": file, "usubjid": usubjid,
            "row": row, "column": column, "value": value, "message": message}


def one_edit_apart(a: str, b: str) -> bool:
    """True when b is a with one letter inserted, deleted, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def look_alikes(domain: str, variable: str, columns) -> list[str]:
    """Columns of a dataset, not canonical themselves, that may be `variable` misspelt or renamed."""
    synonyms = SYNONYMS.get(domain, {})
    return [c for c in columns if c not in CANONICAL[domain]
            and (synonyms.get(c) == variable or one_edit_apart(c, variable))]


def presence_issues(domain: str, table: pd.DataFrame, file: str | None) -> list[dict]:
    """RG0001 (a variable every record needs is absent), RG0008 (a variable a derivation reads is
    absent), RG0012 (an SDTMIG-required variable that nothing here reads is absent) and RG0009 (a
    non-canonical column that looks like an absent canonical variable)."""
    spec = DOMAINS[domain]
    out = []
    for v in spec.variables:
        if v.name in table.columns:
            continue
        alike = look_alikes(domain, v.name, table.columns)
        hint = (f" The dataset has {', '.join(alike)}: did you mean {v.name}? Rename the column in the export."
                if alike else f" Add {v.name} to the export.")
        if v.nonnull:
            out.append(_issue("RG0001", "error", spec.name, file, v.name,
                              f"required variable {v.name} ({v.label}) is missing from {file}." + hint))
        elif v.needed_by:
            out.append(_issue("RG0008", "error", spec.name, file, v.name,
                              f"{v.name} ({v.label}) is missing from {file}; it is needed for {v.needed_by}." + hint))
        elif v.core == "Req":  # conformance: SDTMIG requires it, no number of ours depends on it
            out.append(_issue("RG0012", "warning", spec.name, file, v.name,
                              f"{v.name} ({v.label}) is required by the SDTM implementation guide but missing from "
                              f"{file}; regrowth does not use it." + hint))
        elif alike:
            out.append(_issue("RG0009", "warning", spec.name, file, ",".join(alike),
                              f"{', '.join(alike)} in {file} is not a {spec.name} variable and is kept as a sponsor "
                              f"variable; did you mean {v.name} ({v.label})? Rename the column if so."))
    return out


def _normalised(values: pd.Series, how: str, synonyms: dict[str, str]) -> pd.Series:
    """Each distinct value once: trimmed, upper case; flags to Y/N where unambiguous."""
    distinct = pd.Series(pd.unique(values.dropna()), dtype="str")
    upper = distinct.str.strip().str.upper()
    if how == FLAG:  # a value that means neither stays as the file has it, for its message
        upper = pd.Series([FLAG_VALUES.get(u, d) for u, d in zip(upper, distinct)], dtype="str")
    elif synonyms:
        upper = upper.map(lambda u: synonyms.get(u, u)).astype("str")
    return pd.Series(upper.to_numpy(), index=distinct.to_numpy())


def normalise_values(domain: str, table: pd.DataFrame, issues: list[dict]) -> pd.DataFrame:
    """Controlled terms and Y/N flags as one value (see module doc); a notice (RG0007) per file and
    column says how many values changed and how. Values that cannot be mapped stay as they are
    for validation to report."""
    spec = DOMAINS[domain]
    out = table
    for v in spec.variables:
        if v.values is None or v.kind != STR or v.name not in table.columns or table.empty:
            continue
        raw = table[v.name]
        mapping = _normalised(raw, v.values, TERM_SYNONYMS.get(v.name, {}))
        changed_values = mapping[mapping.index != mapping.to_numpy()]
        if changed_values.empty:
            continue
        new = raw.map(mapping).astype("str").where(raw.notna())
        if out is table:
            out = table.copy(deep=False)
        out[v.name] = new
        _report_changes(spec.name, v.name, raw, new, out, issues,
                        "read as Y/N" if v.values == FLAG else "trimmed and upper-cased to the controlled term")
    if domain == "mh":
        out = _normalise_subtypes(out, issues)
    if domain == "rs":
        out = _salt_result_from_orres(out, issues)
    if domain == "ds":
        out = _disposition_category(out, issues)
    if domain in ("dm", "ae"):
        out = _one_spelling(domain, out, issues)
    return out


def _salt_result_from_orres(rs: pd.DataFrame, issues: list[dict]) -> pd.DataFrame:
    """RSSTRESN empty where RSORRES holds a number (SALT is % in both): the number is used, with a
    notice (RG0010), rather than the assessment silently not analysed."""
    if not {"RSSTRESN", "RSORRES"} <= set(rs.columns) or rs.empty:
        return rs
    orres = pd.to_numeric(rs["RSORRES"], errors="coerce")
    fill = (rs["RSSTRESN"].isna() & orres.notna()).to_numpy(dtype=bool)
    if not fill.any():
        return rs
    out = rs.copy(deep=False)
    out["RSSTRESN"] = rs["RSSTRESN"].mask(fill, orres)
    for file, n in pd.Series(out["SRCFILE"].to_numpy()[fill]).value_counts(sort=False).items():
        issues.append(_issue("RG0010", "notice", "RS", file, "RSSTRESN",
                             f"RSSTRESN is empty in {n} record(s) whose RSORRES holds a number: that number (% hair "
                             "loss) is the analysed value"))
    return out


def _disposition_category(ds: pd.DataFrame, issues: list[dict]) -> pd.DataFrame:
    """DSCAT empty on a record whose DSDECOD is an NCOMPLT term: a disposition event (notice
    RG0010), not a record the end-of-study status silently ignores."""
    if not {"DSCAT", "DSDECOD"} <= set(ds.columns) or ds.empty:
        return ds
    unknown = (ds["DSCAT"].isna() & ds["DSDECOD"].notna() & ~ds["DSDECOD"].isin(NCOMPLT_CT)).to_numpy(dtype=bool)
    for i in np.flatnonzero(unknown):  # a milestone or an unknown event: which, the export must say
        issues.append(_issue("RG0210", "error", "DS", ds["SRCFILE"].iat[i] if "SRCFILE" in ds.columns else None,
                             "DSCAT", f"DSCAT is empty and DSDECOD '{ds['DSDECOD'].iat[i]}' is not a disposition "
                             "term, so it is not known whether this record ends the subject's study",
                             value=None, usubjid=ds["USUBJID"].iat[i] if "USUBJID" in ds.columns else None,
                             row=int(ds["SRCROW"].iat[i]) if "SRCROW" in ds.columns else None))
    fill = (ds["DSCAT"].isna() & ds["DSDECOD"].isin(NCOMPLT_CT)).to_numpy(dtype=bool)
    if not fill.any():
        return ds
    out = ds.copy(deep=False)
    out["DSCAT"] = ds["DSCAT"].mask(fill, "DISPOSITION EVENT").astype("str")
    for file, n in pd.Series(out["SRCFILE"].to_numpy()[fill]).value_counts(sort=False).items():
        issues.append(_issue("RG0010", "notice", "DS", file, "DSCAT",
                             f"DSCAT is empty in {n} record(s) with a disposition term in DSDECOD: taken as "
                             "disposition events (DSCAT = DISPOSITION EVENT)"))
    return out


# Counted text that is free text, not a controlled term: spellings that differ only in case or
# surrounding blanks are one value. Arms are named by the sponsor: two spellings are an error (which is
# meant?); MedDRA terms keep their most frequent spelling, with a notice.
ONE_SPELLING = {"dm": {"ARM": "error", "ACTARM": "error"}, "ae": {"AEDECOD": "notice", "AEBODSYS": "notice"}}


def _one_spelling(domain: str, table: pd.DataFrame, issues: list[dict]) -> pd.DataFrame:
    out = table
    for column, severity in ONE_SPELLING[domain].items():
        if column not in table.columns or table.empty:
            continue
        counts = table[column].dropna().value_counts(sort=False)
        key = pd.Series(counts.index, index=counts.index).str.strip().str.upper()
        variants = key[key.duplicated(keep=False)]
        if variants.empty:
            continue
        file = table["SRCFILE"].iloc[0] if "SRCFILE" in table.columns else None
        groups = {k: sorted(variants.index[variants == k], key=lambda v: (-counts[v], v)) for k in variants.unique()}
        shown = "; ".join(" / ".join(f"'{v}'" for v in vs) for vs in groups.values())
        if severity == "error":
            issues.append(_issue("RG0209", "error", DOMAINS[domain].name, file, column,
                                 f"{column} spells one value in several ways ({shown}): the subjects would be "
                                 f"counted in separate arms. Write each arm the same way in {file}."))
            continue
        chosen = {v: vs[0] for vs in groups.values() for v in vs}
        if out is table:
            out = table.copy(deep=False)
        raw = table[column]
        out[column] = raw.map(lambda v: chosen.get(v, v)).astype("str").where(raw.notna())
        _report_changes(DOMAINS[domain].name, column, raw, out[column], out, issues,
                        "written as the most frequent spelling of the same term")
    return out


def _report_changes(dataset: str, column: str, raw: pd.Series, new: pd.Series, table: pd.DataFrame,
                    issues: list[dict], how: str) -> None:
    changed = (raw != new).fillna(False).to_numpy(dtype=bool)
    files = table["SRCFILE"].to_numpy()[changed] if "SRCFILE" in table.columns else np.array([None] * changed.sum())
    pairs = pd.DataFrame({"file": files, "from": raw.to_numpy()[changed], "to": new.to_numpy()[changed]})
    for file, group in pairs.groupby("file", sort=True, dropna=False):
        counts = group.groupby(["from", "to"], sort=True).size().sort_values(ascending=False, kind="stable")
        shown = "; ".join(f"'{a}' -> '{b}' ({n})" for (a, b), n in counts.head(5).items())
        more = f"; and {len(counts) - 5} more" if len(counts) > 5 else ""
        issues.append(_issue("RG0007", "notice", dataset, file, column,
                             f"{column}: {len(group)} value(s) {how}: {shown}{more}"))


def _normalise_subtypes(mh: pd.DataFrame, issues: list[dict]) -> pd.DataFrame:
    """The alopecia areata subtype (MHDECOD of the MHCAT subtype records) as one of the known
    subtypes in upper case; any other value is an error (the subtype tables count by it)."""
    if not {"MHCAT", "MHDECOD"} <= set(mh.columns):
        return mh
    subtype = mh["MHCAT"].eq(AA_SUBTYPE_CAT).fillna(False).to_numpy(dtype=bool)
    if not subtype.any():
        return mh
    raw = mh["MHDECOD"]
    new = raw.where(~subtype, raw.str.strip().str.upper())
    out = mh.copy(deep=False)
    out["MHDECOD"] = new
    if ((raw != new).fillna(False)).any():
        _report_changes("MH", "MHDECOD", raw, new, out, issues, "trimmed and upper-cased to the subtype")
    unknown = subtype & ~new.isin(AA_SUBTYPES).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(unknown):
        issues.append(_issue("RG0208", "error", "MH", out["SRCFILE"].iat[i] if "SRCFILE" in out.columns else None,
                             "MHDECOD", f"alopecia areata subtype '{raw.iat[i]}' is not one of "
                             f"{', '.join(AA_SUBTYPES)}; write one of them in MHDECOD",
                             value=None if pd.isna(raw.iat[i]) else str(raw.iat[i]),
                             usubjid=out["USUBJID"].iat[i] if "USUBJID" in out.columns else None,
                             row=int(out["SRCROW"].iat[i]) if "SRCROW" in out.columns else None))
    return out


def exposure_from_dm(dm: pd.DataFrame, ex: pd.DataFrame | None, issues: list[dict]) -> pd.DataFrame | None:
    """EX records from DM's RFXSTDTC/RFXENDTC for subjects the EX dataset has no record of (all of
    them when the export has no EX): one record per subject with a first-dose date, traced to its
    DM row, with a notice (RG0010). Without EX, a warning (RG0011) when DM carries no first-dose
    date either: then no one has treatment dates. Returns EX with the records added, or None."""
    if "USUBJID" not in dm.columns:  # RG0001 stops the trial
        return None
    file = dm["SRCFILE"].iloc[0] if len(dm) and "SRCFILE" in dm.columns else None
    start = dm["RFXSTDTC"] if "RFXSTDTC" in dm.columns else pd.Series(None, index=dm.index, dtype="str")
    dosed = start.notna().to_numpy(dtype=bool)
    if ex is not None and len(ex) and "USUBJID" in ex.columns:
        dosed = dosed & ~dm["USUBJID"].isin(ex["USUBJID"].dropna().unique()).to_numpy(dtype=bool)
    if not dosed.any():
        if ex is None or ex.empty:
            issues.append(_issue("RG0011", "warning", "EX", file, "RFXSTDTC",
                                 "the export has no EX records and DM carries no first-dose date (RFXSTDTC): no "
                                 "subject has treatment dates, so the safety and efficacy populations are empty. Add "
                                 "the EX dataset, or RFXSTDTC and RFXENDTC to DM."))
        return None
    d = dm[dosed]
    arm = pd.Series("STUDY TREATMENT", index=d.index, dtype="str")
    for col in ("ARM", "ACTARM"):  # the actual arm where known, else the planned one
        if col in d.columns:
            arm = d[col].astype("str").fillna(arm)
    from_dm = pd.DataFrame({
        "STUDYID": d["STUDYID"] if "STUDYID" in d.columns else None, "DOMAIN": "EX", "USUBJID": d["USUBJID"],
        "EXSEQ": 1.0, "EXTRT": arm, "EXSTDTC": d["RFXSTDTC"],
        "EXENDTC": d["RFXENDTC"] if "RFXENDTC" in d.columns else None,
        "SRCFILE": d["SRCFILE"], "SRCROW": d["SRCROW"],
    }).reset_index(drop=True)
    whom = "the export has no EX records" if ex is None or ex.empty else (
        f"{len(from_dm)} subject(s) with a first-dose date in DM have no EX record")
    issues.append(_issue("RG0010", "notice", "EX", file, "RFXSTDTC,RFXENDTC",
                         f"{whom}: first and last dose of {len(from_dm)} subject(s) taken from DM RFXSTDTC and "
                         "RFXENDTC (one exposure record per subject; dose and doses between are not known)"))
    if ex is None or ex.empty:
        return from_dm
    return pd.concat([ex, from_dm.astype({c: ex[c].dtype for c in from_dm.columns if c in ex.columns})],
                     ignore_index=True)
