"""The checks of the rule registry (validate.rules), on polars frames.

A check takes its rule and the trial (Trial: the canonical tables and what several checks
share) and returns the rule's issues as frames, one row per failing value or record, built a
column at a time (issue_rows): never one record per failing row.

One error per bad value: a value that fails one rule raises no other rule's issue (dates are
compared only where they are valid ISO 8601, a SALT score outside 0-100 is not summed, a value
that is not a number is not also 'empty'). Values are shown as the file has them (130, not
130.0: issues.value_texts).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from regrowth.dates import ISO8601_DATE
from regrowth.issues import issue_schema, value_texts
from regrowth.model import DOMAINS, NCOMPLT_CT, NOT_ASSIGNED_ARMS, NUM, SALT_WEIGHTS

SEX_CT = ["F", "M", "U", "UNDIFFERENTIATED"]
AESEV_CT = ["MILD", "MODERATE", "SEVERE"]
NY_CT = ["N", "Y"]
SALT_CODES = [*SALT_WEIGHTS, "SALTTOT"]
SALT_TOTAL_TOLERANCE = 0.1 + 1e-9  # RG0601: the total is reported to one decimal
# Python's re: '$' also matches before a final line break; the regex engine of polars does not
ISO_PATTERN = ISO8601_DATE[:-1] + r"\n?$" if ISO8601_DATE.endswith("$") else ISO8601_DATE
WEEK_PATTERN = r"(?i)^WEEK\s+(\d+)\n?$"
# Study period evidence: every full date DM, DS and SV know for a subject (RG0704)
PERIOD_EVIDENCE = (("dm", ("RFICDTC", "RFSTDTC", "RFENDTC", "RFPENDTC")), ("ds", ("DSSTDTC",)), ("sv", ("SVSTDTC",)))
PERIOD_CHECKED = (("ae", "AESTDTC"), ("rs", "RSDTC"), ("ex", "EXSTDTC"), ("ex", "EXENDTC"))

VALUE = pl.col("_value")  # the issue's value text, in a message expression
Issues = list[pl.DataFrame]
ISSUE_SCHEMA = issue_schema()


def text(column: str) -> pl.Expr:
    """A text column as String (Categorical too): for string functions, comparisons and joins."""
    return pl.col(column).cast(pl.String)


def present(frame: pl.DataFrame, column: str) -> pl.Series:
    """Where a value is there (null and NaN are missing)."""
    s = frame[column]
    return s.is_not_null() & ~s.is_nan().fill_null(False) if s.dtype.is_float() else s.is_not_null()


def per_distinct(values: pl.Series, compute, dtype) -> pl.Series:
    """compute(values) through its distinct values: a regular expression extracting over the
    dozen visit names of millions of records, mapped back onto every record (null stays null).
    A column of mostly distinct values is computed directly. (Not worth it for a plain
    str.contains, which polars runs as fast as the mapping back.)"""
    distinct = values.drop_nulls().unique()
    if len(distinct) * 4 > len(values):
        return compute(values).cast(dtype)
    return values.replace_strict(distinct, compute(distinct).cast(dtype), default=None, return_dtype=dtype)


class Trial:
    """The tables validation reads, and what several checks share: which dates are valid ISO
    8601 and their calendar dates, computed once per column."""

    def __init__(self, tables: dict[str, pl.DataFrame], window_days: int = 14):
        self.tables = tables
        self.window_days = window_days
        self._iso: dict[tuple[str, str], pl.Series] = {}
        self._date: dict[tuple[str, str], pl.Series] = {}
        self._visits: pl.DataFrame | None = None

    def __getitem__(self, domain: str) -> pl.DataFrame:
        return self.tables[domain]

    def has(self, domain: str, *columns: str) -> bool:
        """The table has records and every one of `columns`."""
        t = self.tables[domain]
        return t.height > 0 and t.width > 0 and all(c in t.columns for c in columns)

    def iso_valid(self, domain: str, column: str) -> pl.Series:
        """True where a --DTC value is ISO 8601 (full or partial), as rule RG0401 checks it;
        False for null and anything else."""
        key = (domain, column)
        if key not in self._iso:
            self._iso[key] = self.tables[domain].select(
                text(column).str.contains(ISO_PATTERN).fill_null(False)).to_series()
        return self._iso[key]

    def iso_invalid(self, domain: str, column: str) -> pl.Series:
        """True where a value is there but fails RG0401."""
        return self.tables[domain][column].is_not_null() & ~self.iso_valid(domain, column)

    def full_date(self, domain: str, column: str) -> pl.Series:
        """The calendar date of each valid ISO 8601 value with a full date (YYYY-MM-DD...); null
        for partial dates, invalid ones (RG0401's alone), impossible ones (2020-02-30) and null."""
        key = (domain, column)
        if key not in self._date:
            t = self.tables[domain].select(text(column).alias("v"), self.iso_valid(domain, column).alias("ok"))
            self._date[key] = t.select(
                pl.when(pl.col("ok") & (pl.col("v").str.len_chars() >= 10))
                .then(pl.col("v").str.slice(0, 10)).str.to_date("%Y-%m-%d", strict=False)).to_series()
        return self._date[key]


    def salt_visits(self) -> pl.DataFrame:
        """One row per subject and visit (USUBJID, VISITNUM; a missing visit number is one
        visit) of the SALT records with a subject: per test its first value (null and NaN are no
        value), the row of the first total record (_total_row), whether the visit gives a total
        SALT (a total record or all four regions: _complete), and of its records' dates the
        earliest valid one, to the day (_earliest), and whether any is invalid (_invalid)."""
        if self._visits is None:
            rs = self.tables["rs"]
            code, row = pl.col("_code"), pl.col("_i")
            valued = pl.col("RSSTRESN").fill_nan(None).is_not_null() if "RSSTRESN" in rs.columns else pl.lit(False)
            has_date = "RSDTC" in rs.columns
            ok = pl.col("_ok")
            # each a plain min or any per visit (the fast aggregations): the row of each test's
            # first value, then the values taken from those rows
            firsts = [pl.when((code == c) & pl.col("_valued")).then(row).min().alias(f"_row_{c}") for c in SALT_CODES]
            visits = (
                rs.lazy().with_row_index("_i")
                .select("_i", text("USUBJID"), pl.col("VISITNUM").fill_nan(None), _code=text("RSTESTCD"),
                        _valued=valued, _date=text("RSDTC").str.slice(0, 10) if has_date else pl.lit(None, pl.String),
                        _present=pl.col("RSDTC").is_not_null() if has_date else pl.lit(False),
                        _ok=self.iso_valid("rs", "RSDTC") if has_date else pl.lit(False))
                .filter(code.is_in(SALT_CODES) & pl.col("USUBJID").is_not_null())
                .group_by("USUBJID", "VISITNUM")
                .agg(*firsts, _total_row=pl.when(code == "SALTTOT").then(row).min(),
                     _regions=pl.all_horizontal([(code == c).any() for c in SALT_WEIGHTS]),
                     _earliest=pl.when(ok).then(pl.col("_date")).min(),
                     _invalid=(pl.col("_present") & ~ok).any())
                .collect())
            score = rs["RSSTRESN"].fill_nan(None) if "RSSTRESN" in rs.columns else pl.Series([None] * rs.height,
                                                                                              dtype=pl.Float64)
            self._visits = visits.with_columns(
                [score.gather(visits[f"_row_{c}"]).alias(c) for c in SALT_CODES],
                _complete=pl.col("_total_row").is_not_null() | pl.col("_regions")).drop(
                [f"_row_{c}" for c in SALT_CODES])
        return self._visits


# --- issue rows -----------------------------------------------------------------------------


def standard_message(description: str, column: str) -> pl.Expr:
    """'<description>: <column> = '<value>'', or the description alone where there is no value."""
    return (pl.when(VALUE.is_null()).then(pl.lit(description))
            .otherwise(pl.concat_str(pl.lit(f"{description}: {column} = '"), VALUE, pl.lit("'"))))


def nan_text(column: str) -> pl.Expr:
    """A text column as an f-string showed a pandas value: a missing one as 'nan'."""
    return text(column).fill_null("nan")


def issue_rows(rule, domain: str, rows: pl.DataFrame, column: str | None, value: str | None = None,
               message: pl.Expr | str | None = None) -> pl.DataFrame:
    """The issues of `rows` (failing rows of the domain's table, with the columns `message`
    reads): file, subject, row and line from the row's trace columns, `value` the text of the
    row's `value` column, `message` an expression (VALUE is the value text); by default the
    rule's description with the column and value."""
    if message is None:
        message = standard_message(rule.description, column)
    elif isinstance(message, str):
        message = pl.lit(message)
    have = set(rows.columns)

    def source(name: str, dtype) -> pl.Expr:
        if name not in have:
            return pl.lit(None, dtype)
        if dtype == pl.Int64:
            return pl.col(name).cast(pl.Float64).fill_nan(None).cast(pl.Int64)
        return text(name)

    values = value_texts(rows[value]) if value is not None else pl.Series("_value", [None] * rows.height, pl.String)
    return rows.with_columns(values.alias("_value")).select(
        rule_id=pl.lit(rule.id), severity=pl.lit(rule.severity), dataset=pl.lit(DOMAINS[domain].name),
        file=source("SRCFILE", pl.String), usubjid=source("USUBJID", pl.String), row=source("SRCROW", pl.Int64),
        column=pl.lit(column, pl.String), value=VALUE, message=message.cast(pl.String),
        line=source("SRCLINE", pl.Int64), fix=pl.lit(rule.fix),
    ).cast(ISSUE_SCHEMA)


TRACE_COLUMNS = ("SRCFILE", "SRCROW", "SRCLINE", "USUBJID")


def failing(t: pl.DataFrame, mask: pl.Series, *columns: str) -> pl.DataFrame:
    """The rows of `t` where `mask`, with their trace columns and `columns` only."""
    keep = [c for c in TRACE_COLUMNS if c in t.columns]
    keep += [c for c in columns if c in t.columns and c not in keep]
    return t.select(keep).filter(mask)


# --- the model's contract: presence, type, empty values, ISO dates ---------------------------


def _model_columns(trial: Trial, predicate: Callable) -> list[tuple[str, object]]:
    """(domain, variable) of every model variable that `predicate` picks, in tables with records."""
    return [(d, v) for d, spec in DOMAINS.items() if d in trial.tables and trial.has(d)
            for v in spec.variables if predicate(v)]


def missing_required(rule, trial: Trial) -> Issues:
    """A variable every record needs (never empty) is not a column of a table with records."""
    return [_no_row_issue(rule, d, v.name, None, f"required variable {v.name} is missing")
            for d, v in _model_columns(trial, lambda v: v.required) if v.name not in trial[d].columns]


def _typed_as_model(dtype, kind: str) -> bool:
    if kind == NUM:
        return dtype.is_numeric() or dtype == pl.Null
    return dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)


def mistyped(rule, trial: Trial) -> Issues:
    """A column whose type is not the model's (ingest makes numbers of a numeric variable and
    reports the values that are not, also RG0101): one issue for the column."""
    out = []
    for d, v in _model_columns(trial, lambda v: True):
        if v.name in trial[d].columns and not _typed_as_model(trial[d][v.name].dtype, v.kind):
            dtype = str(trial[d][v.name].dtype)
            out.append(_no_row_issue(rule, d, v.name, dtype, f"{rule.description}: {v.name} = '{dtype}'"))
    return out


def _no_row_issue(rule, domain: str, column: str | None, value: str | None, message: str) -> pl.DataFrame:
    return pl.DataFrame([{"rule_id": rule.id, "severity": rule.severity, "dataset": DOMAINS[domain].name,
                          "file": None, "usubjid": None, "row": None, "column": column, "value": value,
                          "message": message, "line": None, "fix": rule.fix}], schema=ISSUE_SCHEMA)


def empty_required(rule, trial: Trial) -> Issues:
    """A variable every record needs is empty on a record."""
    out = []
    for d, v in _model_columns(trial, lambda v: v.required):
        t = trial[d]
        if v.name in t.columns and _typed_as_model(t[v.name].dtype, v.kind):
            out.append(issue_rows(rule, d, failing(t, ~present(t, v.name)), v.name,
                                  message=f"{v.name} is required but empty"))
    return out


def not_iso_dates(rule, trial: Trial) -> Issues:
    """Every --DTC variable of the model, where it holds a value that is not ISO 8601."""
    out = []
    for d, v in _model_columns(trial, lambda v: v.name.endswith("DTC")):
        t = trial[d]
        if v.name in t.columns and _typed_as_model(t[v.name].dtype, v.kind):
            out.append(issue_rows(rule, d, failing(t, trial.iso_invalid(d, v.name), v.name), v.name, v.name))
    return out


def values(domain: str, column: str, ok: Callable[[pl.Expr], pl.Expr]) -> Callable:
    """A check of each value of one variable: `ok` (an expression of the column) must hold
    where a value is there (empty values are the presence rules' business)."""
    def check(rule, trial: Trial) -> Issues:
        t = trial[domain]
        if not trial.has(domain, column) or not _typed_as_model(t[column].dtype, DOMAINS[domain].kind_of(column)):
            return []
        col = pl.col(column).cast(pl.String) if t[column].dtype == pl.Categorical else pl.col(column)
        bad = present(t, column) & ~t.select(ok(col).fill_null(True)).to_series()
        return [issue_rows(rule, domain, failing(t, bad, column), column, column)]

    check.__doc__ = f"{DOMAINS[domain].name}.{column} values"
    return check


# --- records: uniqueness, disposition terms, end before start ---------------------------------


def unique_keys(domain: str, keys: list[str], report: str) -> Callable:
    """Records whose `keys` (all present) are those of another record; reported on `report`."""
    def check(rule, trial: Trial) -> Issues:
        t = trial[domain]
        if not trial.has(domain, *keys):
            return []
        mask = t.select(pl.struct(keys).is_duplicated()).to_series()
        for k in keys:
            mask = mask & present(t, k)
        return [issue_rows(rule, domain, failing(t, mask, report), report, report)]

    return check


def seq_unique(rule, trial: Trial) -> Issues:
    """--SEQ unique per subject within its source dataset (RS may join records of RS and QS
    files, each numbered on its own), in every domain with a --SEQ variable."""
    out = []
    for d, spec in DOMAINS.items():
        seq = f"{spec.name}SEQ"
        if d not in trial.tables or seq not in spec.columns or not trial.has(d, "USUBJID", seq):
            continue
        t = trial[d]
        keys = ["USUBJID", "SRCFILE", seq] if "SRCFILE" in t.columns else ["USUBJID", seq]
        mask = (present(t, "USUBJID") & present(t, seq)
                & t.select(pl.struct(keys).is_duplicated()).to_series())
        out.append(issue_rows(rule, d, failing(t, mask, seq), seq, seq))
    return out


def disposition_terms(rule, trial: Trial) -> Issues:
    """Disposition events (not milestones or other events) use NCOMPLT terms."""
    if not trial.has("ds", "DSCAT", "DSDECOD"):
        return []
    t = trial["ds"]
    mask = t.select((text("DSCAT").str.to_uppercase() == "DISPOSITION EVENT").fill_null(False)
                    & pl.col("DSDECOD").is_not_null()
                    & ~text("DSDECOD").str.to_uppercase().is_in(NCOMPLT_CT).fill_null(False)).to_series()
    return [issue_rows(rule, "ds", failing(t, mask, "DSDECOD"), "DSDECOD", "DSDECOD")]


def end_not_before_start(domain: str, start: str, end: str) -> Callable:
    """End not before start, compared as calendar dates where both are valid ISO 8601 full dates
    (a partial date is not comparable; an invalid one fails RG0401 and nothing else)."""
    def check(rule, trial: Trial) -> Issues:
        if not trial.has(domain, start, end):
            return []
        s, e = trial.full_date(domain, start), trial.full_date(domain, end)
        mask = (e < s).fill_null(False)
        return [issue_rows(rule, domain, failing(trial[domain], mask, end), end, end)]

    return check


# --- values a count depends on ------------------------------------------------------------------


def aeser_y_n(rule, trial: Trial) -> Issues:
    """AESER Y or N: not another value, and not empty (the serious TEAE count depends on it)."""
    out = values("ae", "AESER", lambda v: v.is_in(NY_CT))(rule, trial)
    if trial.has("ae", "AESER"):
        t = trial["ae"]
        out.append(issue_rows(rule, "ae", failing(t, t["AESER"].is_null()), "AESER",
                              message="AESER is empty: whether the AE is serious is not known, and the serious "
                                      "TEAE count depends on it"))
    return out


def ae_start_empty(rule, trial: Trial) -> Issues:
    if not trial.has("ae", "AESTDTC"):
        return []
    t = trial["ae"]
    return [issue_rows(rule, "ae", failing(t, t["AESTDTC"].is_null()), "AESTDTC",
                       message="AESTDTC is empty: the AE counts as treatment-emergent unless it ended before the "
                               "first dose")]


def salt_date_incomplete(rule, trial: Trial) -> Issues:
    """A SALT record without a complete date: no visit, baseline or EOT can use it (an invalid
    date is RG0401's)."""
    if not trial.has("rs", "RSTESTCD", "RSDTC"):
        return []
    t = trial["rs"]
    salt = t.select(text("RSTESTCD").is_in(SALT_CODES).fill_null(False)).to_series()
    short = t.select(text("RSDTC").str.len_chars() < 10).to_series().fill_null(False)
    mask = salt & (t["RSDTC"].is_null() | (trial.iso_valid("rs", "RSDTC") & short))
    message = pl.lit("the SALT assessment has no complete date, so it cannot be analysed") + pl.when(
        VALUE.is_not_null()).then(pl.concat_str(pl.lit(": RSDTC = '"), VALUE, pl.lit("'"))).otherwise(pl.lit(""))
    return [issue_rows(rule, "rs", failing(t, mask, "RSDTC"), "RSDTC", "RSDTC", message)]


def last_dose_end_empty(rule, trial: Trial) -> Issues:
    """A subject's latest exposure record (by valid start date) without an end date."""
    if not trial.has("ex", "EXSTDTC", "EXENDTC"):
        return []
    t = trial["ex"]
    if "USUBJID" not in t.columns:
        return []
    start = pl.when(pl.col("_ok")).then(text("EXSTDTC"))
    latest = (t.select("USUBJID", "EXSTDTC").with_columns(_ok=trial.iso_valid("ex", "EXSTDTC"))
              .select(pl.col("USUBJID").is_not_null() & (start == start.max().over("USUBJID")).fill_null(False))
              .to_series())
    mask = latest & t["EXENDTC"].is_null()
    return [issue_rows(rule, "ex", failing(t, mask), "EXENDTC",
                       message="the subject's last exposure record has no end date: the last dose is taken as DM's "
                               "RFXENDTC where that is later, else as the record's start")]


# --- SALT total ---------------------------------------------------------------------------------


def salt_total_mismatch(rule, trial: Trial) -> Issues:
    """The reported SALT total must equal the weighted regions within rounding: per subject and
    visit, the first value of each test; reported on the visit's first total record. A visit
    with a score outside 0-100 (RG0301) is not summed."""
    if not trial.has("rs", "RSTESTCD", "RSSTRESN", "VISITNUM", "USUBJID"):
        return []
    rs = trial["rs"]
    visits = trial.salt_visits().filter(pl.col("VISITNUM").is_not_null())
    if any(visits[c].null_count() == visits.height for c in SALT_CODES):
        return []  # a test never reported: nothing to compare
    computed = pl.lit(0.0)
    for code, weight in SALT_WEIGHTS.items():
        computed = computed + pl.col(code) * weight
    out_of_range = pl.any_horizontal([((pl.col(c) < 0) | (pl.col(c) > 100)).fill_null(False) for c in SALT_CODES])
    bad = visits.with_columns(computed=computed).filter(
        ((pl.col("SALTTOT") - pl.col("computed")).abs() > SALT_TOTAL_TOLERANCE).fill_null(False) & ~out_of_range)
    if not bad.height:
        return []
    rows = rs.select([c for c in TRACE_COLUMNS if c in rs.columns])[bad["_total_row"]].with_columns(
        bad["SALTTOT"], bad["computed"])
    rows = rows.with_columns(_computed=value_texts(rows["computed"], lambda v: f"{v:.2f}"))
    message = pl.concat_str(pl.lit("SALT total "), VALUE, pl.lit(" but weighted regions give "), pl.col("_computed"))
    return [issue_rows(rule, "rs", rows, "RSSTRESN", "SALTTOT", message)]


# --- across domains -------------------------------------------------------------------------------


def no_subjects(rule, trial: Trial) -> Issues:
    if trial.has("dm"):
        return []
    return [_no_row_issue(rule, "dm", "USUBJID", None, "the trial has no DM subjects (DM dataset missing or empty)")]


def _subjects(trial: Trial, domain: str) -> pl.Series:
    """The distinct subjects of a table (not null), as text."""
    t = trial[domain]
    if "USUBJID" not in t.columns:
        return pl.Series("USUBJID", [], pl.String)
    return t.select(text("USUBJID")).to_series().drop_nulls().unique()


def _among(t: pl.DataFrame, subjects: pl.Series, column: str = "USUBJID") -> pl.Series:
    """Per row: its subject is one of `subjects` (null: no)."""
    return t.select(text(column).is_in(subjects.implode()).fill_null(False)).to_series()


def not_in_dm(rule, trial: Trial) -> Issues:
    """Records of a subject DM does not have (DM without any USUBJID is RG0001's or RG0002's:
    no subject is 'not in DM' then)."""
    if not trial.has("dm"):
        return []
    subjects = _subjects(trial, "dm")
    out = []
    for d, t in trial.tables.items():
        if d == "dm" or not trial.has(d, "USUBJID") or not len(subjects):
            continue
        orphan = t["USUBJID"].is_not_null() & ~_among(t, subjects)
        out.append(issue_rows(rule, d, failing(t, orphan), "USUBJID", "USUBJID",
                              pl.concat_str(pl.lit("USUBJID '"), VALUE, pl.lit("' is not in DM"))))
    return out


def _not_assigned(column: str) -> pl.Expr:
    return text(column).str.to_uppercase().is_in(sorted(NOT_ASSIGNED_ARMS)).fill_null(False)


def assigned_not_dosed(rule, trial: Trial) -> Issues:
    """A subject with an arm (not 'screen failure', 'not assigned' ...) and no exposure record;
    a DM record without USUBJID is RG0002's, not also this."""
    if not trial.has("dm", "ARM", "USUBJID") or "USUBJID" not in trial["ex"].columns:
        return []
    dm = trial["dm"]
    armed = dm.select(pl.col("ARM").is_not_null() & ~_not_assigned("ARM") & pl.col("USUBJID").is_not_null()).to_series()
    mask = armed & ~_among(dm, _subjects(trial, "ex"))
    return [issue_rows(rule, "dm", failing(dm, mask, "ARM"), "USUBJID", "USUBJID",
                       pl.concat_str(pl.lit("subject assigned to '"), nan_text("ARM"),
                                     pl.lit("' has no exposure record")))]


def dosed_without_actual_arm(rule, trial: Trial) -> Issues:
    if not trial.has("dm", "ACTARM", "ARM", "USUBJID") or "USUBJID" not in trial["ex"].columns:
        return []
    dm = trial["dm"]
    unarmed = dm.select((pl.col("ACTARM").is_null() | _not_assigned("ACTARM"))
                        & pl.col("USUBJID").is_not_null()).to_series()
    rows = failing(dm, unarmed & _among(dm, _subjects(trial, "ex")), "ACTARM", "ARM")
    shown = value_texts(rows["ACTARM"], lambda v: "empty" if v is None else repr(v), nulls=True)
    rows = rows.with_columns(shown.alias("_shown"))
    return [issue_rows(rule, "dm", rows, "ACTARM", "ACTARM", pl.concat_str(
        pl.lit("the subject has exposure records but no actual arm (ACTARM "), pl.col("_shown"),
        pl.lit("): safety counts them under the planned arm '"), nan_text("ARM"), pl.lit("'")))]


def no_baseline(rule, trial: Trial) -> Issues:
    """A treated subject with no SALT assessment on or before the first dose. Dates compared as
    text (partial dates too), but only valid ISO 8601 ones; a subject with an invalid or missing
    dose date or an invalid assessment date is not judged (RG0401 / RG0002 say so)."""
    if not trial.has("dm") or not trial.has("rs") or not trial.has("ex"):
        return []
    dm, ex = trial["dm"], trial["ex"]
    dose_ok = trial.iso_valid("ex", "EXSTDTC")
    first_dose = (ex.lazy().select(text("USUBJID"), text("EXSTDTC"), ok=dose_ok)
                  .filter(pl.col("ok") & pl.col("USUBJID").is_not_null())
                  .group_by("USUBJID").agg(dose=pl.col("EXSTDTC").min().str.slice(0, 10)).collect())
    # the SALT records of visits that give a total SALT (salt_visits)
    assessed = trial.salt_visits().filter(pl.col("_complete"))
    unsure = pl.concat([ex.select(text("USUBJID")).filter(~dose_ok).to_series(),
                        assessed.filter(pl.col("_invalid"))["USUBJID"]]).drop_nulls().unique()
    before = (assessed.join(first_dose, on="USUBJID")
              .filter(pl.col("_earliest") <= pl.col("dose"))["USUBJID"].unique())
    judged = _among(dm, first_dose["USUBJID"]) & ~_among(dm, unsure)
    mask = _among(dm, _subjects(trial, "ex")) & judged & ~_among(dm, before)
    return [issue_rows(rule, "dm", failing(dm, mask), "USUBJID", "USUBJID",
                       "treated subject has no SALT assessment on or before the first dose")]


def outside_study_period(rule, trial: Trial) -> Issues:
    """AE starts, SALT assessments and doses must fall within the subject's study period: first
    to last full date DM, DS and SV know for the subject; a subject with an invalid date there
    (RG0401) has no period known for sure."""
    known, unsure = [], []
    for domain, columns in PERIOD_EVIDENCE:
        for col in columns:
            if domain in trial.tables and trial.has(domain, col, "USUBJID"):
                t = trial[domain]
                known.append(pl.DataFrame({"USUBJID": t["USUBJID"].cast(pl.String),
                                           "date": trial.full_date(domain, col)}))
                unsure.append(t["USUBJID"].cast(pl.String).filter(trial.iso_invalid(domain, col)))
    if not known:
        return []
    known = pl.concat(known).drop_nulls()
    if not known.height:
        return []
    unsure = pl.concat(unsure).drop_nulls().unique()
    period = (known.filter(~pl.col("USUBJID").is_in(unsure.implode())).group_by("USUBJID")
              .agg(lo=pl.col("date").min(), hi=pl.col("date").max()))
    out = []
    for domain, col in PERIOD_CHECKED:
        if not trial.has(domain, col, "USUBJID"):
            continue
        t = trial[domain]
        dated = trial.full_date(domain, col).is_not_null()
        rows = (failing(t, dated, col)
                .with_columns(_date=trial.full_date(domain, col).filter(dated), _key=text("USUBJID"))
                .join(period, left_on="_key", right_on="USUBJID", how="inner", maintain_order="left")
                .filter((pl.col("_date") < pl.col("lo")) | (pl.col("_date") > pl.col("hi"))))
        out.append(issue_rows(rule, domain, rows, col, col, pl.concat_str(
            pl.lit(f"{col} "), VALUE, pl.lit(" is outside the subject's study period "),
            pl.col("lo").dt.strftime("%Y-%m-%d"), pl.lit(" to "), pl.col("hi").dt.strftime("%Y-%m-%d"))))
    return out


def dosing_against_arm(rule, trial: Trial) -> Issues:
    """A placebo arm with active drug, or an active arm dosed only with placebo (by ACTARM where
    DM has it, else ARM; a subject's first DM record: RG0501 reports duplicates)."""
    if not trial.has("ex", "EXTRT", "USUBJID") or not trial.has("dm", "USUBJID"):
        return []
    dm, ex = trial["dm"], trial["ex"]
    arm_col = "ACTARM" if "ACTARM" in dm.columns and dm["ACTARM"].is_not_null().any() else "ARM"
    arm = (dm.select(_key=text("USUBJID"), _arm=text(arm_col).str.to_uppercase())
           .unique("_key", keep="first", maintain_order=True))
    placebo_dose = text("EXTRT").str.to_uppercase().str.contains("PLACEBO").fill_null(False)
    if "EXDOSE" in ex.columns:
        placebo_dose = placebo_dose | (pl.col("EXDOSE") == 0).fill_null(False)
    on_placebo = pl.col("_arm").str.contains("PLACEBO").fill_null(False)
    dosed = (ex.select([c for c in TRACE_COLUMNS if c in ex.columns] + ["EXTRT"]).with_row_index("_i")
             .with_columns(_key=text("USUBJID"), _p=ex.select(placebo_dose).to_series())
             .join(arm.with_columns(_in_dm=pl.lit(True)), on="_key", how="left", nulls_equal=True,
                   maintain_order="left")
             .with_columns(_on_placebo=on_placebo, _in_dm=pl.col("_in_dm").fill_null(False)))
    active = dosed.filter(pl.col("_on_placebo") & ~pl.col("_p"))
    out = [issue_rows(rule, "ex", active, "EXTRT", "EXTRT",
                      pl.concat_str(pl.lit("subject in a placebo arm received "), nan_text("EXTRT")))]
    only_placebo = (dosed.filter(pl.col("_key").is_not_null())
                    .with_columns(_a=~pl.col("_on_placebo") & pl.col("_in_dm"))
                    .group_by("_key").agg(pl.all().first(), _all_p=pl.col("_p").all(), _all_a=pl.col("_a").all())
                    .filter(pl.col("_all_p") & pl.col("_all_a")).sort("_i"))
    out.append(issue_rows(rule, "ex", only_placebo, "EXTRT", "EXTRT", pl.concat_str(
        pl.lit("subject in arm '"), nan_text("_arm"), pl.lit("' received only placebo"))))
    return out


def outside_visit_window(rule, trial: Trial) -> Issues:
    """A SALT assessment at visit 'WEEK n' should fall near study day 7n + 1 (day 1: the first
    dose; a subject with an invalid dose date has no first dose known for sure)."""
    if not trial.has("rs", "VISIT", "RSDTC", "USUBJID") or not trial.has("ex", "EXSTDTC", "USUBJID"):
        return []
    rs, ex = trial["rs"], trial["ex"]
    doubtful = ex["USUBJID"].cast(pl.String).filter(trial.iso_invalid("ex", "EXSTDTC")).drop_nulls().unique()
    first = (pl.DataFrame({"_key": ex["USUBJID"].cast(pl.String), "_first": trial.full_date("ex", "EXSTDTC")})
             .filter(pl.col("_key").is_not_null() & ~pl.col("_key").is_in(doubtful.implode()))
             .group_by("_key").agg(pl.col("_first").min()))
    week = per_distinct(rs.get_column("VISIT").cast(pl.String),
                        lambda v: v.str.extract(WEEK_PATTERN, 1).cast(pl.Float64, strict=False), pl.Float64)
    rows = (rs.select([c for c in TRACE_COLUMNS if c in rs.columns] + ["VISIT", "RSDTC"])
            .with_columns(_date=trial.full_date("rs", "RSDTC"), _week=week, _key=text("USUBJID"))
            .filter(pl.col("_date").is_not_null() & pl.col("_week").is_not_null())
            .join(first, on="_key", how="inner", maintain_order="left")
            .with_columns(_day=(pl.col("_date") - pl.col("_first")).dt.total_days() + 1,
                          _target=pl.col("_week") * 7 + 1)
            .filter(((pl.col("_day") - pl.col("_target")).abs() > trial.window_days).fill_null(False)))
    rows = rows.with_columns(_target_text=value_texts(rows["_target"], lambda v: f"{v:.0f}"))
    return [issue_rows(rule, "rs", rows, "RSDTC", "RSDTC", pl.concat_str(
        nan_text("VISIT"), pl.lit(" assessed on study day "), pl.col("_day").cast(pl.String),
        pl.lit(f", more than {trial.window_days} days from day "), pl.col("_target_text")))]
