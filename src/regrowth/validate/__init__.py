"""Validate: run every rule on a trial's canonical tables and list each problem found.

Lazy: all failures are collected at once, one issue per failing value or row, never stopping
at the first. Severity comes from the rule catalogue.

One error per bad value: a value that fails one rule raises no other rule's issue (dates are
compared only where they are valid ISO 8601, a SALT score outside 0-100 is not summed, a value
that is not a number is not also 'empty'). Each issue names its file and row, and for a CSV
file the line (issues.ISSUE_COLUMNS); values are shown as the file has them (130, not 130.0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.dates import ISO8601_DATE
from regrowth.frames import isin, key_codes, lookup, per_distinct, select_rows
from regrowth.issues import is_text_file, issues_frame, sort_issues, value_text
from regrowth.model import DOMAINS, NOT_ASSIGNED_ARMS, SALT_WEIGHTS
from regrowth.validate.rules import RULES, SALT_TOTAL_TOLERANCE

BUILTIN_RULES = {"column_in_dataframe": "RG0001", "not_nullable": "RG0002", "column_in_schema": None}
# Frame-level rules report on their key, not on every column of the row.
FRAME_RULE_COLUMNS = {"RG0501": "USUBJID", "RG0502": "--SEQ", "RG0503": "RSTESTCD", "RG0205": "DSDECOD",
                      "RG0504": "VISITNUM",
                      "RG0602": "AEENDTC", "RG0603": "EXENDTC"}


def _issue(rule_id, domain, df, i, column, value, message) -> dict:
    has_row = i is not None and i in df.index

    def at(col):
        return df.at[i, col] if has_row and col in df.columns and pd.notna(df.at[i, col]) else None

    row, line = at("SRCROW"), at("SRCLINE")
    return {
        "rule_id": rule_id,
        "severity": RULES[rule_id].severity,
        "dataset": DOMAINS[domain].name,
        "file": at("SRCFILE"),
        "usubjid": at("USUBJID"),
        "row": None if row is None else int(row),
        "line": None if line is None else int(line),  # else filled by fill_lines for a CSV file
        "column": column,
        "value": value_text(value),
        "message": message,
    }


# --- dates: only valid ISO 8601 values are compared (an invalid one is RG0401's, only) --------


def iso_valid(text: pd.Series) -> pd.Series:
    """True where a --DTC value is ISO 8601 (full or partial), as rule RG0401 checks it; False
    for null and for anything else."""
    return per_distinct(text.astype("str"), lambda v: v.str.match(ISO8601_DATE).fillna(False).astype(bool))


def iso_invalid(text: pd.Series) -> pd.Series:
    """True where a value is present but fails RG0401."""
    return text.notna() & ~iso_valid(text)


def full_date(text: pd.Series) -> pd.Series:
    """The calendar date of each valid ISO 8601 value with a full date (YYYY-MM-DD...); NaT for
    partial dates, invalid dates (which fail RG0401: no other date rule may report them) and null."""
    def parse(v: pd.Series) -> pd.Series:
        ok = v.str.match(ISO8601_DATE).fillna(False).astype(bool) & (v.str.len() >= 10).fillna(False)
        return pd.to_datetime(v.where(ok).str[:10], format="%Y-%m-%d", errors="coerce")

    return per_distinct(text.astype("str"), parse)


def schema_issues(domain: str, df: pd.DataFrame) -> list[dict]:
    # pandera is imported here, not with the package: it adds ~0.3 s to a job's start, and the
    # jobs that import only the gate (accept, combine) never run a schema
    import pandera.pandas as pa

    from regrowth.validate.schemas import SCHEMAS

    if df.empty:
        return []
    try:
        SCHEMAS[domain].validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    out: list[dict] = []
    seen: set[tuple] = set()
    for rec in fc.to_dict("records"):
        check = str(rec["check"])
        rule_id = BUILTIN_RULES.get(check, check if check in RULES else None)
        if check.startswith("dtype("):
            rule_id = "RG0101"
        if rule_id is None:
            continue
        idx = rec["index"]
        i = None if idx is None or (isinstance(idx, float) and np.isnan(idx)) else int(idx)
        if rule_id in FRAME_RULE_COLUMNS:
            if (rule_id, i) in seen:
                continue
            seen.add((rule_id, i))
            column = FRAME_RULE_COLUMNS[rule_id].replace("--", DOMAINS[domain].name)
            value = df.at[i, column] if i is not None and column in df.columns else None
        elif rule_id == "RG0001":
            column, value = str(rec["failure_case"]), None
        else:
            column, value = rec["column"], rec["failure_case"]
        out.append(_issue(rule_id, domain, df, i, column, value, _message(rule_id, column, value_text(value))))
    return out


def _message(rule_id: str, column: str, value) -> str:
    base = RULES[rule_id].description
    if rule_id == "RG0001":
        return f"required variable {column} is missing"
    if rule_id == "RG0002":
        return f"{column} is required but empty"
    if value is None:
        return base
    return f"{base}: {column} = '{value}'"


# --- cross-domain and cross-record rules -----------------------------------------------------


def salt_total_issues(rs: pd.DataFrame) -> list[dict]:
    """RG0601: a reported SALT total must equal the weighted regions within rounding."""
    if rs.empty or not {"RSTESTCD", "RSSTRESN", "VISITNUM", "USUBJID"} <= set(rs.columns):
        return []
    tests = [*SALT_WEIGHTS, "SALTTOT"]
    salt = select_rows(rs, isin(rs["RSTESTCD"], tests) & rs["USUBJID"].notna() & rs["VISITNUM"].notna(),
                       ["USUBJID", "VISITNUM", "RSTESTCD", "RSSTRESN"])
    # one row per (USUBJID, VISITNUM), one column per test: its first non-missing value
    visit = key_codes(salt, ["USUBJID", "VISITNUM"])
    codes, names = pd.factorize(salt["RSTESTCD"])
    test = pd.Index(tests).get_indexer(names)[codes]  # position in `tests`, per distinct code
    value = salt["RSSTRESN"].to_numpy(dtype="float64", na_value=np.nan)
    wide = np.full((visit.max() + 1 if len(visit) else 0, len(tests)), np.nan)
    have = np.flatnonzero(~np.isnan(value))[::-1]  # reversed: the first value is written last
    wide[visit[have], test[have]] = value[have]
    if np.isnan(wide).all(axis=0).any():  # a test never reported: nothing to compare
        return []
    total = wide[:, -1]
    computed = sum(wide[:, j] * w for j, w in enumerate(SALT_WEIGHTS.values()))
    with np.errstate(invalid="ignore"):
        # a score outside 0-100 fails RG0301: its visit's sum is not checked as well
        out_of_range = ((wide < 0) | (wide > 100)).any(axis=1)
        bad = np.flatnonzero((np.abs(total - computed) > SALT_TOTAL_TOLERANCE) & ~out_of_range)  # NaN: False
    first_total = np.zeros(len(wide), dtype=np.int64)  # position of each visit's first total record
    totals = np.flatnonzero(test == len(tests) - 1)[::-1]
    first_total[visit[totals]] = totals
    return [_issue("RG0601", "rs", rs, salt.index[first_total[k]], "RSSTRESN", total[k],
                   f"SALT total {value_text(total[k])} but weighted regions give {computed[k]:.2f}") for k in bad]


def cross_domain_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    dm = tables["dm"]
    out: list[dict] = []
    if dm.empty:
        out.append({"rule_id": "RG0003", "severity": "error", "dataset": "DM", "file": None, "usubjid": None,
                    "row": None, "column": "USUBJID", "value": None,
                    "message": "the trial has no DM subjects (DM dataset missing or empty)"})
        return out
    subjects = dm["USUBJID"].dropna().unique()  # an array, not a set: isin runs in pyarrow
    for domain, df in tables.items():
        if domain == "dm" or df.empty or "USUBJID" not in df.columns or not len(subjects):
            continue  # DM without any USUBJID is RG0001's / RG0002's: no subject is 'not in DM' then
        orphan = df["USUBJID"].notna() & ~isin(df["USUBJID"], subjects)
        for i in df.index[orphan]:
            out.append(_issue("RG0701", domain, df, i, "USUBJID", df.at[i, "USUBJID"],
                              f"USUBJID '{df.at[i, 'USUBJID']}' is not in DM"))
    ex = tables["ex"]
    treated = ex["USUBJID"].dropna().unique()
    armed = dm["ARM"].notna() & ~dm["ARM"].str.upper().isin(list(NOT_ASSIGNED_ARMS))
    armed &= dm["USUBJID"].notna()  # a DM record without USUBJID is RG0002's, not also 'no exposure'
    for i in dm.index[armed & ~isin(dm["USUBJID"], treated)]:
        out.append(_issue("RG0703", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                          f"subject assigned to '{dm.at[i, 'ARM']}' has no exposure record"))
    unarmed = dm["ACTARM"].isna() | dm["ACTARM"].str.upper().isin(list(NOT_ASSIGNED_ARMS)).fillna(False)
    for i in dm.index[unarmed & dm["USUBJID"].notna() & isin(dm["USUBJID"], treated)]:
        out.append(_issue("RG0707", "dm", dm, i, "ACTARM", dm.at[i, "ACTARM"],
                          f"the subject has exposure records but no actual arm (ACTARM "
                          f"{'empty' if pd.isna(dm.at[i, 'ACTARM']) else repr(dm.at[i, 'ACTARM'])}): safety counts "
                          f"them under the planned arm '{dm.at[i, 'ARM']}'"))
    rs = tables["rs"]
    if not rs.empty and not ex.empty:
        # dates compared as text (partial dates too), but only valid ISO 8601 ones; a subject with
        # an invalid or missing dose date or an invalid assessment date is not judged: those
        # values already fail RG0401 / RG0002
        dose_ok = iso_valid(ex["EXSTDTC"])
        first_dose = select_rows(ex, dose_ok, ["USUBJID", "EXSTDTC"]).groupby("USUBJID")["EXSTDTC"].min().str[:10]
        rs_dt = _salt_visit_dates(rs)
        rs_ok = iso_valid(rs_dt["RSDTC"])
        unsure = pd.concat([ex.loc[~dose_ok, "USUBJID"], rs_dt.loc[~rs_ok, "USUBJID"]]).dropna().unique()
        rs_dt = rs_dt[rs_ok]
        dose = lookup(rs_dt["USUBJID"], first_dose).astype("str")
        known = dose.notna()
        pre = rs_dt[known & (rs_dt["RSDTC"].astype("str").str[:10].where(known, "") <= dose.where(known, ""))]
        judged = isin(dm["USUBJID"], first_dose.index) & ~isin(dm["USUBJID"], unsure)
        for i in dm.index[isin(dm["USUBJID"], treated) & judged & ~isin(dm["USUBJID"], pre["USUBJID"])]:
            out.append(_issue("RG0702", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                              "treated subject has no SALT assessment on or before the first dose"))
    return out


def _salt_visit_dates(rs: pd.DataFrame) -> pd.DataFrame:
    """USUBJID and RSDTC of the SALT records of visits that give a total SALT: a reported total,
    or all four regions (salt_records derives the total from them)."""
    tests = [*SALT_WEIGHTS, "SALTTOT"]
    salt = select_rows(rs, isin(rs["RSTESTCD"], tests) & rs["USUBJID"].notna(),
                       ["USUBJID", "VISITNUM", "RSTESTCD", "RSDTC"])
    if salt.empty:
        return salt[["USUBJID", "RSDTC"]]
    visit = key_codes(salt, ["USUBJID", "VISITNUM"])
    n = visit.max() + 1
    test = salt["RSTESTCD"].to_numpy(dtype=object)
    has_total = np.bincount(visit[test == "SALTTOT"], minlength=n) > 0
    regions = np.zeros((n, len(SALT_WEIGHTS)), dtype=bool)
    for j, code in enumerate(SALT_WEIGHTS):
        regions[visit[test == code], j] = True
    complete = has_total | regions.all(axis=1)
    return salt.loc[complete[visit], ["USUBJID", "RSDTC"]].dropna()


PERIOD_EVIDENCE = (("dm", ("RFICDTC", "RFSTDTC", "RFENDTC", "RFPENDTC")), ("ds", ("DSSTDTC",)), ("sv", ("SVSTDTC",)))


def _subject_dates(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    """Every full date known per subject, from DM, DS and SV: the study period's evidence; and
    the subjects with an invalid date there (RG0401), whose period is not known for sure."""
    parts, unsure = [], []
    for domain, columns in PERIOD_EVIDENCE:
        df = tables[domain]
        for col in columns:
            if df.empty or col not in df.columns:
                continue
            parts.append(pd.DataFrame({"USUBJID": df["USUBJID"], "date": full_date(df[col])}))
            unsure.append(df.loc[iso_invalid(df[col]), "USUBJID"])
    known = pd.concat(parts).dropna() if parts else pd.DataFrame(columns=["USUBJID", "date"])
    return known, (pd.concat(unsure).dropna().unique() if unsure else np.array([], dtype=object))


def study_period_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """RG0704: AE starts, SALT assessments and doses must fall within the subject's study period
    (first to last date DM, DS and SV know for the subject)."""
    known, unsure = _subject_dates(tables)
    if known.empty:
        return []
    period = known[~isin(known["USUBJID"], unsure)].groupby("USUBJID")["date"].agg(["min", "max"])
    out = []
    for domain, col in (("ae", "AESTDTC"), ("rs", "RSDTC"), ("ex", "EXSTDTC"), ("ex", "EXENDTC")):
        df = tables[domain]
        if df.empty or col not in df.columns:
            continue
        d = full_date(df[col])
        lo, hi = lookup(df["USUBJID"], period["min"]), lookup(df["USUBJID"], period["max"])
        outside = d.notna() & lo.notna() & ((d < lo) | (d > hi))
        for i in df.index[outside]:
            out.append(_issue("RG0704", domain, df, i, col, df.at[i, col],
                              f"{col} {df.at[i, col]} is outside the subject's study period "
                              f"{lo[i]:%Y-%m-%d} to {hi[i]:%Y-%m-%d}"))
    return out


def dosing_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """RG0705: a placebo arm with active drug, or an active arm dosed only with placebo."""
    dm, ex = tables["dm"], tables["ex"]
    if ex.empty or dm.empty or "EXTRT" not in ex.columns or "USUBJID" not in dm.columns:
        return []
    arm_col = "ACTARM" if "ACTARM" in dm.columns and dm["ACTARM"].notna().any() else "ARM"
    arm = dm.drop_duplicates("USUBJID").set_index("USUBJID")[arm_col].astype("str").str.upper()  # RG0501 reports duplicates
    placebo_dose = ex["EXTRT"].astype("str").str.upper().str.contains("PLACEBO").fillna(False)
    if "EXDOSE" in ex.columns:
        placebo_dose |= ex["EXDOSE"].eq(0)
    on_placebo = lookup(ex["USUBJID"], arm).str.contains("PLACEBO").fillna(False)
    out = []
    for i in ex.index[on_placebo & ~placebo_dose]:
        out.append(_issue("RG0705", "ex", ex, i, "EXTRT", ex.at[i, "EXTRT"],
                          f"subject in a placebo arm received {ex.at[i, 'EXTRT']}"))
    active_only_placebo = ex.assign(p=placebo_dose, a=~on_placebo & isin(ex["USUBJID"], arm.index)).groupby(
        "USUBJID").agg(p=("p", "all"), a=("a", "all"))
    for u in active_only_placebo.index[active_only_placebo["p"] & active_only_placebo["a"]]:
        i = ex.index[ex["USUBJID"] == u][0]
        out.append(_issue("RG0705", "ex", ex, i, "EXTRT", ex.at[i, "EXTRT"],
                          f"subject in arm '{arm[u]}' received only placebo"))
    return out


def visit_window_issues(tables: dict[str, pd.DataFrame], window_days: int) -> list[dict]:
    """RG0706: a SALT assessment at visit 'WEEK n' should fall near study day 7n + 1."""
    rs, ex = tables["rs"], tables["ex"]
    if rs.empty or ex.empty or "VISIT" not in rs.columns:
        return []
    first = full_date(ex["EXSTDTC"]).groupby(ex["USUBJID"]).min()
    # a subject with an invalid dose date (RG0401) has no first dose known for sure
    first = first[~first.index.isin(ex.loc[iso_invalid(ex["EXSTDTC"]), "USUBJID"].dropna().unique())]
    week = per_distinct(rs["VISIT"].astype("str"), lambda v: pd.to_numeric(
        v.str.extract(r"^WEEK\s+(\d+)$", flags=2)[0], errors="coerce").astype("float64"))
    day = (full_date(rs["RSDTC"]) - lookup(rs["USUBJID"], first)).dt.days + 1
    off = (day - (week * 7 + 1)).abs()
    out = []
    for i in rs.index[off.notna() & (off > window_days)]:
        out.append(_issue("RG0706", "rs", rs, i, "RSDTC", rs.at[i, "RSDTC"],
                          f"{rs.at[i, 'VISIT']} assessed on study day {day[i]:.0f}, "
                          f"more than {window_days} days from day {week[i] * 7 + 1:.0f}"))
    return out


def counted_value_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Values a count depends on that are missing where the record is there:
    RG0203 an AE without AESER (the serious count), RG0402 a SALT record without a complete date
    (no visit, baseline or EOT can use it), RG0604 an AE without a start date (counted emergent),
    RG0605 a subject's latest exposure record without an end date (last dose = last visit)."""
    out = []
    ae, rs, ex = tables["ae"], tables["rs"], tables["ex"]
    if len(ae) and "AESER" in ae.columns:
        for i in ae.index[ae["AESER"].isna()]:
            out.append(_issue("RG0203", "ae", ae, i, "AESER", None, "AESER is empty: whether the AE is serious is "
                              "not known, and the serious TEAE count depends on it"))
    if len(ae) and "AESTDTC" in ae.columns:
        for i in ae.index[ae["AESTDTC"].isna()]:
            out.append(_issue("RG0604", "ae", ae, i, "AESTDTC", None, "AESTDTC is empty: the AE counts as "
                              "treatment-emergent unless it ended before the first dose"))
    if len(rs) and {"RSTESTCD", "RSDTC"} <= set(rs.columns):
        salt = isin(rs["RSTESTCD"], [*SALT_WEIGHTS, "SALTTOT"])
        dtc = rs["RSDTC"].astype("str")
        partial = salt & iso_valid(dtc) & (dtc.str.len() < 10)  # an invalid one is RG0401's
        for i in rs.index[(salt & rs["RSDTC"].isna()) | partial]:
            out.append(_issue("RG0402", "rs", rs, i, "RSDTC", rs.at[i, "RSDTC"],
                              "the SALT assessment has no complete date, so it cannot be analysed"
                              + (f": RSDTC = '{rs.at[i, 'RSDTC']}'" if pd.notna(rs.at[i, "RSDTC"]) else "")))
    if len(ex) and {"EXSTDTC", "EXENDTC"} <= set(ex.columns):
        start = ex["EXSTDTC"].astype("str").where(iso_valid(ex["EXSTDTC"]))
        latest = start.notna() & start.eq(start.groupby(ex["USUBJID"]).transform("max"))
        for i in ex.index[latest & ex["EXENDTC"].isna()]:
            out.append(_issue("RG0605", "ex", ex, i, "EXENDTC", None, "the subject's last exposure record has no "
                              "end date: the last dose is taken as DM's RFXENDTC where that is later, else as the record's start"))
    return out


def unmapped_issues(unmapped: pd.DataFrame) -> list[dict]:
    return [{"rule_id": r["rule_id"], "severity": RULES[r["rule_id"]].severity, "dataset": "SOURCE",
             "file": r["SRCFILE"], "usubjid": None, "row": int(r["SRCROW"]), "column": None, "value": None,
             "message": r["reason"]} for r in unmapped.to_dict("records")]


def validate_trial(tables: dict[str, pd.DataFrame], ingest_issues: pd.DataFrame | None = None,
                   unmapped: pd.DataFrame | None = None, window_days: int = 14) -> pd.DataFrame:
    records: list[dict] = []
    for domain, df in tables.items():
        records += schema_issues(domain, df)
    records += salt_total_issues(tables["rs"])
    records += cross_domain_issues(tables)
    records += study_period_issues(tables)
    records += dosing_issues(tables)
    records += visit_window_issues(tables, window_days)
    records += counted_value_issues(tables)
    if unmapped is not None:
        records += unmapped_issues(unmapped)
    found = issues_frame(records)
    if ingest_issues is not None and len(ingest_issues):
        found = pd.concat([issues_frame(ingest_issues.to_dict("records")), found], ignore_index=True)
    found = fill_lines(issues_frame(drop_follow_on(found).to_dict("records")), tables)
    found["fix"] = found["rule_id"].map({r.id: r.fix for r in RULES.values()}).astype("str")
    return sort_issues(found)


ABSENT_VARIABLE_RULES = ["RG0001", "RG0008", "RG0012"]  # a variable the export lacks


def drop_follow_on(found: pd.DataFrame) -> pd.DataFrame:
    """Issues that only repeat an earlier failure of the same value:
    - a variable missing from the export (RG0001, RG0008, RG0012) is not also 'empty' on every
      row (RG0002);
    - a value that is not a number (RG0101) was set to null by ingest: that null is not also
      'required but empty' (RG0002)."""
    if found.empty:
        return found
    rg0002 = found["rule_id"] == "RG0002"
    if not rg0002.any():
        return found
    absent = isin(found["rule_id"], ABSENT_VARIABLE_RULES)
    where = found["dataset"].astype("str") + "\0" + found["column"].astype("str")
    noise = rg0002 & isin(where, where[absent])
    not_number = found["rule_id"] == "RG0101"
    cell = where + "\0" + found["file"].astype("str") + "\0" + found["row"].astype("str")
    noise |= rg0002 & isin(cell, cell[not_number])
    return found[~noise.fillna(False)]


def fill_lines(found: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """`line` of each issue with a row in a CSV file: the line the reader recorded (SRCLINE, only
    for files whose data row n is not line n + 1), else row + 1 (the header is line 1). A row of
    such a file that no table carries keeps a null line rather than a wrong one."""
    text_files = [f for f in found["file"].dropna().unique() if is_text_file(f)]  # per file, not per issue
    todo = found["line"].isna() & found["row"].notna() & isin(found["file"], text_files)
    if not todo.any():
        return found
    recorded = [t.loc[t["SRCLINE"].notna(), ["SRCFILE", "SRCROW", "SRCLINE"]]
                for t in tables.values() if "SRCLINE" in t.columns]
    recorded = [r for r in recorded if len(r)]
    line = (found["row"].astype("float64") + 1).where(todo)  # aligned to found
    if recorded:
        known = pd.concat(recorded, ignore_index=True).drop_duplicates(["SRCFILE", "SRCROW"])
        key = known["SRCFILE"].astype("str") + "\0" + known["SRCROW"].astype("float64").astype("str")
        lines = pd.Series(known["SRCLINE"].astype("float64").to_numpy(), index=pd.Index(key))
        irregular = isin(found["file"].astype("str"), known["SRCFILE"].unique())
        issue_key = found["file"].astype("str") + "\0" + found["row"].astype("float64").astype("str")
        line = line.where(~irregular, lookup(issue_key, lines).where(todo))
    out = found.copy()
    filled = pd.Series(line.to_numpy(dtype="float64"), index=found.index).astype("Int64")
    out["line"] = out["line"].fillna(filled)
    return out
