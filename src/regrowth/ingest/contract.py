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

import polars as pl

from regrowth.ingest.common import WHITESPACE, read_issue
from regrowth.model import AA_SUBTYPE_CAT, AA_SUBTYPES, DOMAINS, FLAG, NCOMPLT_CT, STR, SYNONYMS, TRACE

FLAG_VALUES = {"Y": "Y", "YES": "Y", "TRUE": "Y", "T": "Y", "1": "Y",
               "N": "N", "NO": "N", "FALSE": "N", "F": "N", "0": "N"}
# Terms whose CDISC code is a letter: the word is unambiguous (SEX codelist C66731)
TERM_SYNONYMS = {"SEX": {"FEMALE": "F", "MALE": "M", "UNKNOWN": "U"}}
CANONICAL = {d: {v.name for v in spec.variables} | {v.name for v in TRACE} for d, spec in DOMAINS.items()}


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


def presence_issues(domain: str, table: pl.DataFrame, file: str | None) -> list[dict]:
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
            out.append(read_issue("RG0001", spec.name, file, v.name,
                              f"required variable {v.name} ({v.label}) is missing from {file}." + hint))
        elif v.needed_by:
            out.append(read_issue("RG0008", spec.name, file, v.name,
                              f"{v.name} ({v.label}) is missing from {file}; it is needed for {v.needed_by}." + hint))
        elif v.core == "Req":  # conformance: SDTMIG requires it, no number of ours depends on it
            out.append(read_issue("RG0012", spec.name, file, v.name,
                              f"{v.name} ({v.label}) is required by the SDTM implementation guide but missing from "
                              f"{file}; regrowth does not use it." + hint))
        elif alike:
            out.append(read_issue("RG0009", spec.name, file, ",".join(alike),
                              f"{', '.join(alike)} in {file} is not a {spec.name} variable and is kept as a sponsor "
                              f"variable; did you mean {v.name} ({v.label})? Rename the column if so."))
    return out


def _trimmed_upper(values: pl.Expr) -> pl.Expr:
    return values.str.strip_chars(WHITESPACE).str.to_uppercase()


def _normalised(values: pl.Series, how: str, synonyms: dict[str, str]) -> dict[str, str]:
    """Each distinct value once -> trimmed, upper case; flags to Y/N where unambiguous."""
    distinct = values.drop_nulls().unique(maintain_order=True).cast(pl.String).to_list()
    upper = [v.strip().upper() for v in distinct]
    if how == FLAG:  # a value that means neither stays as the file has it, for its message
        upper = [FLAG_VALUES.get(u, d) for u, d in zip(upper, distinct)]
    elif synonyms:
        upper = [synonyms.get(u, u) for u in upper]
    return dict(zip(distinct, upper))


def normalise_values(domain: str, table: pl.DataFrame, issues: list[dict]) -> pl.DataFrame:
    """Controlled terms and Y/N flags as one value (see module doc); a notice (RG0007) per file and
    column says how many values changed and how. Values that cannot be mapped stay as they are
    for validation to report."""
    spec = DOMAINS[domain]
    out = table
    for v in spec.variables:
        if v.values is None or v.kind != STR or v.name not in table.columns or table.is_empty():
            continue
        mapping = _normalised(table[v.name], v.values, TERM_SYNONYMS.get(v.name, {}))
        changed_values = {a: b for a, b in mapping.items() if a != b}
        if not changed_values:
            continue
        out = out.with_columns(pl.col(v.name).cast(pl.String).replace(changed_values).alias(v.name))
        _report_changes(spec.name, v.name, table[v.name], out[v.name], out, issues,
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


def _count_per_file(table: pl.DataFrame, rows: pl.Expr) -> list[tuple[str, int]]:
    """(file, rows) for the rows of `rows`, files in the order they first come."""
    counted = table.filter(rows).group_by("SRCFILE", maintain_order=True).len()
    return list(counted.iter_rows())


def _salt_result_from_orres(rs: pl.DataFrame, issues: list[dict]) -> pl.DataFrame:
    """RSSTRESN empty where RSORRES holds a number (SALT is % in both): the number is used, with a
    notice (RG0010), rather than the assessment silently not analysed."""
    if not {"RSSTRESN", "RSORRES"} <= set(rs.columns) or rs["RSSTRESN"].null_count() == 0:
        return rs
    orres = pl.col("RSORRES").cast(pl.String).str.strip_chars(WHITESPACE).cast(pl.Float64, strict=False)
    orres = pl.when(orres.is_nan().not_()).then(orres)
    fill = pl.col("RSSTRESN").is_null() & orres.is_not_null()
    empty = rs.select("SRCFILE", "RSSTRESN", "RSORRES").filter(pl.col("RSSTRESN").is_null())
    counts = _count_per_file(empty, fill)  # RSORRES parsed only where RSSTRESN is empty
    if not counts:
        return rs
    out = rs.with_columns(pl.when(fill).then(orres).otherwise(pl.col("RSSTRESN")).alias("RSSTRESN"))
    for file, n in counts:
        issues.append(read_issue("RG0010", "RS", file, "RSSTRESN",
                             f"RSSTRESN is empty in {n} record(s) whose RSORRES holds a number: that number (% hair "
                             "loss) is the analysed value"))
    return out


def _column_or_none(table: pl.DataFrame, column: str, rows: pl.DataFrame) -> list:
    return rows[column].to_list() if column in table.columns else [None] * rows.height


def _disposition_category(ds: pl.DataFrame, issues: list[dict]) -> pl.DataFrame:
    """DSCAT empty on a record whose DSDECOD is an NCOMPLT term: a disposition event (notice
    RG0010), not a record the end-of-study status silently ignores."""
    if not {"DSCAT", "DSDECOD"} <= set(ds.columns) or ds.is_empty():
        return ds
    decod = pl.col("DSDECOD").cast(pl.String)
    is_term = decod.is_in(NCOMPLT_CT).fill_null(False)
    unknown = ds.filter(pl.col("DSCAT").is_null() & decod.is_not_null() & ~is_term)
    for file, usubjid, row, term in zip(_column_or_none(ds, "SRCFILE", unknown), _column_or_none(ds, "USUBJID", unknown),
                                        _column_or_none(ds, "SRCROW", unknown), unknown["DSDECOD"].to_list()):
        # a milestone or an unknown event: which, the export must say
        issues.append(read_issue("RG0210", "DS", file, "DSCAT", f"DSCAT is empty and DSDECOD '{term}' is not a "
                             "disposition term, so it is not known whether this record ends the subject's study",
                             value=None, usubjid=usubjid, row=None if row is None else int(row)))
    fill = pl.col("DSCAT").is_null() & is_term
    counts = _count_per_file(ds, fill)
    if not counts:
        return ds
    dscat = ds.schema["DSCAT"]
    out = ds.with_columns(pl.when(fill).then(pl.lit("DISPOSITION EVENT")).otherwise(pl.col("DSCAT").cast(pl.String))
                          .cast(dscat).alias("DSCAT"))
    for file, n in counts:
        issues.append(read_issue("RG0010", "DS", file, "DSCAT",
                             f"DSCAT is empty in {n} record(s) with a disposition term in DSDECOD: taken as "
                             "disposition events (DSCAT = DISPOSITION EVENT)"))
    return out


# Counted text that is free text, not a controlled term: spellings that differ only in case or
# surrounding blanks are one value. Arms are named by the sponsor: two spellings are an error (which is
# meant?); MedDRA terms keep their most frequent spelling, with a notice.
ONE_SPELLING = {"dm": {"ARM": "error", "ACTARM": "error"}, "ae": {"AEDECOD": "notice", "AEBODSYS": "notice"}}


def _one_spelling(domain: str, table: pl.DataFrame, issues: list[dict]) -> pl.DataFrame:
    out = table
    for column, severity in ONE_SPELLING[domain].items():
        if column not in table.columns or table.is_empty():
            continue
        # each spelling with its count, in the order the spellings first come
        counts = dict(table.select(pl.col(column).cast(pl.String)).drop_nulls()
                      .group_by(column, maintain_order=True).len().iter_rows())
        groups: dict[str, list[str]] = {}
        for spelling in counts:
            groups.setdefault(spelling.strip().upper(), []).append(spelling)
        groups = {k: sorted(vs, key=lambda v: (-counts[v], v)) for k, vs in groups.items() if len(vs) > 1}
        if not groups:
            continue
        file = table["SRCFILE"][0] if "SRCFILE" in table.columns else None
        shown = "; ".join(" / ".join(f"'{v}'" for v in vs) for vs in groups.values())
        if severity == "error":
            issues.append(read_issue("RG0209", DOMAINS[domain].name, file, column,
                                 f"{column} spells one value in several ways ({shown}): the subjects would be "
                                 f"counted in separate arms. Write each arm the same way in {file}."))
            continue
        chosen = {v: vs[0] for vs in groups.values() for v in vs[1:]}
        out = out.with_columns(pl.col(column).cast(pl.String).replace(chosen).alias(column))
        _report_changes(DOMAINS[domain].name, column, table[column], out[column], out, issues,
                        "written as the most frequent spelling of the same term")
    return out


def _report_changes(dataset: str, column: str, raw: pl.Series, new: pl.Series, table: pl.DataFrame,
                    issues: list[dict], how: str) -> None:
    files = table["SRCFILE"] if "SRCFILE" in table.columns else pl.Series([None] * table.height, dtype=pl.String)
    pairs = pl.DataFrame({"file": files, "from": raw.cast(pl.String), "to": new.cast(pl.String)})
    pairs = pairs.filter((pl.col("from") != pl.col("to")).fill_null(False))
    for (file,), group in sorted(pairs.group_by("file"), key=lambda g: (g[0][0] is None, g[0][0] or "")):
        counts = (group.group_by("from", "to").len().sort("from", "to")
                  .sort("len", descending=True, maintain_order=True))
        shown = "; ".join(f"'{a}' -> '{b}' ({n})" for a, b, n in counts.head(5).iter_rows())
        more = f"; and {counts.height - 5} more" if counts.height > 5 else ""
        issues.append(read_issue("RG0007", dataset, file, column,
                             f"{column}: {group.height} value(s) {how}: {shown}{more}"))


def _normalise_subtypes(mh: pl.DataFrame, issues: list[dict]) -> pl.DataFrame:
    """The alopecia areata subtype (MHDECOD of the MHCAT subtype records) as one of the known
    subtypes in upper case; any other value is an error (the subtype tables count by it)."""
    if not {"MHCAT", "MHDECOD"} <= set(mh.columns):
        return mh
    subtype = (pl.col("MHCAT").cast(pl.String) == AA_SUBTYPE_CAT).fill_null(False)
    if not mh.select(subtype.any()).item():
        return mh
    raw = pl.col("MHDECOD").cast(pl.String)
    out = mh.with_columns(pl.when(subtype).then(_trimmed_upper(raw)).otherwise(raw).alias("MHDECOD"))
    if (mh["MHDECOD"].cast(pl.String) != out["MHDECOD"]).fill_null(False).any():
        _report_changes("MH", "MHDECOD", mh["MHDECOD"], out["MHDECOD"], out, issues,
                        "trimmed and upper-cased to the subtype")
    unknown = (mh.with_columns(out["MHDECOD"].alias("_new"))
               .filter(subtype & ~pl.col("_new").is_in(AA_SUBTYPES).fill_null(False)))
    for file, usubjid, row, value in zip(_column_or_none(mh, "SRCFILE", unknown), _column_or_none(mh, "USUBJID", unknown),
                                         _column_or_none(mh, "SRCROW", unknown), unknown["MHDECOD"].to_list()):
        shown = "nan" if value is None else value  # as the message has always read for an empty subtype
        issues.append(read_issue("RG0208", "MH", file, "MHDECOD", f"alopecia areata subtype '{shown}' is not one "
                             f"of {', '.join(AA_SUBTYPES)}; write one of them in MHDECOD",
                             value=None if value is None else str(value), usubjid=usubjid,
                             row=None if row is None else int(row)))
    return out


def exposure_from_dm(dm: pl.DataFrame, ex: pl.DataFrame | None, issues: list[dict]) -> pl.DataFrame | None:
    """EX records from DM's RFXSTDTC/RFXENDTC for subjects the EX dataset has no record of (all of
    them when the export has no EX): one record per subject with a first-dose date, traced to its
    DM row, with a notice (RG0010). Without EX, a warning (RG0011) when DM carries no first-dose
    date either: then no one has treatment dates. Returns EX with the records added, or None."""
    if "USUBJID" not in dm.columns:  # RG0001 stops the trial
        return None
    file = dm["SRCFILE"][0] if dm.height and "SRCFILE" in dm.columns else None
    no_ex = ex is None or ex.is_empty()
    dosed = pl.col("RFXSTDTC").is_not_null() if "RFXSTDTC" in dm.columns else pl.lit(False)
    if not no_ex and "USUBJID" in ex.columns:
        dosed = dosed & ~pl.col("USUBJID").is_in(ex["USUBJID"].drop_nulls().unique().implode()).fill_null(False)
    d = dm.filter(dosed)
    if d.is_empty():
        if no_ex:
            issues.append(read_issue("RG0011", "EX", file, "RFXSTDTC",
                                 "the export has no EX records and DM carries no first-dose date (RFXSTDTC): no "
                                 "subject has treatment dates, so the safety and efficacy populations are empty. Add "
                                 "the EX dataset, or RFXSTDTC and RFXENDTC to DM."))
        return None
    arm = pl.lit("STUDY TREATMENT", pl.String)
    for col in ("ARM", "ACTARM"):  # the actual arm where known, else the planned one
        if col in d.columns:
            arm = pl.col(col).cast(pl.String).fill_null(arm)

    def text(col):
        return pl.col(col).cast(pl.String) if col in d.columns else pl.lit(None, pl.String)

    from_dm = d.select(text("STUDYID").alias("STUDYID"), pl.lit("EX").alias("DOMAIN"), text("USUBJID").alias("USUBJID"),
                       pl.lit(1.0).alias("EXSEQ"), arm.alias("EXTRT"), text("RFXSTDTC").alias("EXSTDTC"),
                       text("RFXENDTC").alias("EXENDTC"), "SRCFILE", "SRCROW")
    whom = "the export has no EX records" if no_ex else (
        f"{from_dm.height} subject(s) with a first-dose date in DM have no EX record")
    issues.append(read_issue("RG0010", "EX", file, "RFXSTDTC,RFXENDTC",
                         f"{whom}: first and last dose of {from_dm.height} subject(s) taken from DM RFXSTDTC and "
                         "RFXENDTC (one exposure record per subject; dose and doses between are not known)"))
    if no_ex:
        return from_dm
    return pl.concat([ex, from_dm], how="diagonal_relaxed")
