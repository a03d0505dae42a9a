"""The gate between validation and derivation.

Policy 'strict': any error stops the trial. Policy 'quarantine': rows that fail a row-level
error rule are set aside with their rule ids (a subject whose DM record is set aside takes all
its rows along) and the rest continue; errors that no row carries (a missing required variable,
no subjects) still stop the trial.

Either way every source row is accounted for: rows_in = rows_accepted + rows_quarantined per
export file, where source rows carried into no table (not SALT, no mapped data, orphan SUPP)
count as quarantined with their reason. A row with no fate is a bug and fails loudly.

Tables in and out are polars frames (pandas input is converted once, at the entrance). A table
without a quarantined row is passed on as it is, not copied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from regrowth.errors import ContractError, ValidationFailed
from regrowth.issues import is_text_file, issue_frame
from regrowth.model import DOMAINS, SOURCE_ORDER
from regrowth.validate import polars_frame, polars_tables
from regrowth.validate.rules import RULES

SHOW_AT_MOST = 20
METADATA_FORMATS = ["redcap-dictionary", "redcap-mapping", "redcap-arms"]  # describe the data; hold no records
ACCOUNTING_COLUMNS = ["file", "rows_in", "rows_accepted", "rows_quarantined"]
DM_QUARANTINED = ("RG0708", "the subject's DM record is quarantined")


def _present(value) -> bool:
    """Not missing: None, NaN and pandas' NA are (issues may come from pandas or polars)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return type(value).__name__ not in ("NAType", "NaTType")


def where_in_file(issue: dict) -> str | None:
    """Where a row is, as the data manager finds it: in a CSV file 'data row 3 (line 4)' (the
    header is line 1), in XPT and Dataset-JSON 'record 3'."""
    row = issue.get("row")
    if not _present(row):
        return None
    if is_text_file(issue.get("file")):
        line = issue.get("line")
        return f"data row {int(row)}" + ("" if not _present(line) else f" (line {int(line)})")
    return f"record {int(row)}"


def describe(issue: dict) -> str:
    parts = [f"file {issue['file']}" if _present(issue.get("file")) else None, where_in_file(issue)]
    parts += [f"{k} {issue[k]}" for k in ("usubjid", "column") if _present(issue.get(k))]
    where = ", ".join(p for p in parts if p)
    rule = RULES.get(issue["rule_id"])
    advice = issue.get("fix") if _present(issue.get("fix")) else (rule.fix if rule is not None else "")
    fix = f" Fix: {str(advice).rstrip('.')}." if advice else ""
    message = str(issue["message"]).rstrip(".")
    return f"[{issue['rule_id']} {issue['severity']}] {issue['dataset']} ({where}): {message}.{fix}"


def issue_files(issues_path: str) -> str:
    """The issue list's files: the workflow writes validation.parquet and validation.csv side by side."""
    path = str(issues_path)
    if path.endswith(".parquet"):
        return f"{path[: -len('.parquet')]}.csv (and {path})"
    return path


def _stop(errors: pl.DataFrame, trial_id: str, issues_path: str, why: str) -> None:
    lines = [describe(rec) for rec in errors.head(SHOW_AT_MOST).to_dicts()]
    more = errors.height - len(lines)
    raise ValidationFailed(
        f"trial {trial_id}: {errors.height} validation error(s){why}; it stops here. "
        f"Every issue is listed in {issue_files(issues_path)}, with the file, row, line and column of each "
        "and how to fix it.\n  "
        + "\n  ".join(lines)
        + (f"\n  ... and {more} more" if more > 0 else "")
    )


def check_no_errors(issues, trial_id: str, issues_path: str) -> None:
    """Stops (ValidationFailed) on any error of `issues` (a polars or pandas issue table)."""
    errors = issue_frame(issues).filter(pl.col("severity") == "error")
    if errors.height:
        _stop(errors, trial_id, issues_path, "")


@dataclass
class Gated:
    tables: dict[str, pl.DataFrame]  # accepted rows, canonical columns
    quarantine: dict[str, pl.DataFrame]  # per domain (+ QRULES, QREASON) and 'unmapped'
    accounting: pl.DataFrame  # per export file: rows_in, rows_accepted, rows_quarantined

    def as_pandas(self) -> Gated:
        """The same tables as pandas, as read_table would read them back (for in-process runs
        whose next stages are still on pandas)."""
        from regrowth.parquet_io import as_pandas

        return Gated({d: as_pandas(t) for d, t in self.tables.items()},
                     {d: as_pandas(t) for d, t in self.quarantine.items()}, as_pandas(self.accounting))


def _row_flags(tables: dict[str, pl.DataFrame], errors: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """(i, rule, message) per failing canonical row (i: its position in the table), per domain,
    in the order of the errors: one join of each table's (file, row) with its errors."""
    errs = errors.select(file=pl.col("file").cast(pl.String), row=pl.col("row").cast(pl.Float64),
                         rule=pl.col("rule_id").cast(pl.String), message=pl.col("message").cast(pl.String),
                         dataset=pl.col("dataset").cast(pl.String)).with_row_index("_order")
    flags = {}
    for d, t in tables.items():
        mine = errs.filter(pl.col("dataset").is_in([DOMAINS[d].name, "REDCAP"]))
        source = t.select(file=pl.col("SRCFILE").cast(pl.String), row=pl.col("SRCROW").cast(pl.Float64))
        flags[d] = (source.with_row_index("i").join(mine, on=["file", "row"], how="inner")
                    .sort("_order", "i").select("i", "rule", "message"))
    return flags


def apply_policy(tables: dict, issues, files, unmapped, links, *, policy: str, trial_id: str,
                 issues_path: str) -> Gated:
    """The accepted and quarantined rows of every table, and the accounting, under `policy`.
    Takes polars or pandas tables; gives polars."""
    tables = polars_tables(tables)
    issues = issue_frame(issues)
    errors = issues.filter(pl.col("severity") == "error")
    if policy == "strict":
        check_no_errors(issues, trial_id, issues_path)
    elif policy == "quarantine":
        unplaceable = errors.filter(pl.col("row").is_null() | pl.col("file").is_null())
        if unplaceable.height:
            _stop(unplaceable, trial_id, issues_path, " that no single row carries, so quarantine cannot set them aside")
    else:
        raise ValueError(f"unknown validation policy {policy!r}")
    flags = _row_flags(tables, errors.filter(pl.col("row").is_not_null() & pl.col("file").is_not_null()))
    # a subject whose DM record is quarantined has no analysable rows anywhere
    dm = tables["dm"]
    gone = dm["USUBJID"].cast(pl.String).gather(flags["dm"]["i"]).drop_nulls().unique()
    accepted, quarantine = {}, {}
    for d, t in tables.items():
        f = flags[d]
        if len(gone) and d != "dm":
            extra = (t.select(pl.col("USUBJID").cast(pl.String).is_in(gone.implode()).fill_null(False).alias("gone"))
                     .with_row_index("i").filter(pl.col("gone") & ~pl.col("i").is_in(f["i"].implode())))
            f = pl.concat([f, extra.select("i", rule=pl.lit(DM_QUARANTINED[0]), message=pl.lit(DM_QUARANTINED[1]))])
        accepted[d], quarantine[d] = _split(t, f)
    quarantine["unmapped"] = polars_frame(unmapped).sort(SOURCE_ORDER, nulls_last=True, maintain_order=True)
    return Gated(accepted, quarantine, account(files, accepted, quarantine, unmapped, links))


def _split(t: pl.DataFrame, flags: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted rows, quarantined rows with QRULES and QREASON): a row's rule ids sorted and
    distinct, its messages distinct in the order of its errors."""
    # most rows fail one rule once: theirs need no grouping (per-group aggregation is the slow
    # path, seconds for 100,000 failing rows)
    once = pl.len().over("i") == 1
    reasons = pl.concat([
        flags.filter(once).select("i", QRULES=pl.col("rule"), QREASON=pl.col("message")),
        flags.filter(~once).group_by("i").agg(QRULES=pl.col("rule").unique().sort().str.join(","),
                                              QREASON=pl.col("message").unique(maintain_order=True).str.join(" | ")),
    ])
    if not reasons.height:
        return t, t.clear().with_columns(QRULES=pl.lit(None, pl.String), QREASON=pl.lit(None, pl.String))
    bad = pl.int_range(pl.len(), dtype=pl.UInt32).is_in(reasons["i"].implode())
    held = (t.with_row_index("_i").filter(pl.col("_i").is_in(reasons["i"].implode()))
            .join(reasons, left_on="_i", right_on="i", how="left", maintain_order="left").drop("_i"))
    return t.filter(~bad), held


QUARANTINED, ACCEPTED = 1, 2  # a source row's fate
ROW_BITS = 40  # a source row's key: its file's number << ROW_BITS | its row


def account(files, accepted: dict, quarantine: dict, unmapped, links) -> pl.DataFrame:
    """Fate of every source row, per export file. rows_in may count only some of a file's rows
    (one partition of a split export): then exactly that many rows must have a fate.

    A source row feeding any accepted record is accepted, else quarantined; one that ingest
    carried into no table (unmapped) is quarantined whatever else it feeds. Merged rows (SUPPxx,
    `links`) share their parent's fate; a parent with none leaves them quarantined."""
    files, unmapped, links = polars_frame(files), polars_frame(unmapped), polars_frame(links)
    data_files = (files.filter(~pl.col("format").is_in(METADATA_FORMATS))
                  .select(file=pl.col("file").cast(pl.String), rows_in=pl.col("rows_in").cast(pl.Int64))
                  .with_row_index("_f"))

    def keyed(file: str, row: str) -> pl.Expr:
        """The source row's key; null for a row of no data file, or no row (>= 1)."""
        number = pl.col(file).cast(pl.String).replace_strict(data_files["file"], data_files["_f"], default=None,
                                                             return_dtype=pl.Int64)
        at = pl.col(row).cast(pl.Float64)
        return (pl.when(at.is_not_null() & ~at.is_nan() & (at >= 1))
                .then(number * (1 << ROW_BITS) + at.cast(pl.Int64)))

    # the last of these a row appears in decides: quarantined, accepted, unmapped
    sources = [(t, 1) for d, t in quarantine.items() if d != "unmapped"]
    sources += [(t, 2) for t in accepted.values()] + [(unmapped, 3)]
    rows = pl.concat([t.select(key=keyed("SRCFILE", "SRCROW"), rank=pl.lit(rank, pl.Int8))
                      for t, rank in sources if t.width])
    fates = (rows.drop_nulls("key").group_by("key").agg(pl.col("rank").max())
             .select("key", fate=pl.when(pl.col("rank") == 2).then(ACCEPTED).otherwise(QUARANTINED).cast(pl.Int8)))
    file_of = pl.col("key") // (1 << ROW_BITS)
    top = fates.group_by(_f=file_of).agg(top=(pl.col("key") % (1 << ROW_BITS)).max())
    size = (data_files.join(top, on="_f", how="left", maintain_order="left")
            .select("_f", size=pl.max_horizontal("rows_in", pl.col("top").fill_null(0)) + 1))
    linked = _linked_fates(links, fates, size, keyed)
    fates = pl.concat([fates.join(linked, on="key", how="anti"), linked])
    per_file = fates.group_by(_f=file_of).agg(had=pl.len(), acc=(pl.col("fate") == ACCEPTED).sum().cast(pl.Int64))
    out = (data_files.join(per_file, on="_f", how="left", maintain_order="left")
           .join(size, on="_f", how="left", maintain_order="left").with_columns(pl.col("had", "acc").fill_null(0)))
    for rec in out.filter(pl.col("had") != pl.col("rows_in")).head(1).to_dicts():
        n = rec["rows_in"]
        lost = []
        if rec["size"] == n + 1:
            have = set((fates.filter(file_of == rec["_f"])["key"] % (1 << ROW_BITS)).to_list())
            lost = [r for r in range(1, n + 1) if r not in have][:10]
        raise ContractError(f"{rec['file']}: {n - rec['had']} source row(s) have no fate (bug)"
                            + (f": rows {lost}" if lost else ""))
    return out.select("file", "rows_in", rows_accepted=pl.col("acc"), rows_quarantined=pl.col("rows_in") - pl.col("acc"))


def _linked_fates(links: pl.DataFrame, fates: pl.DataFrame, size: pl.DataFrame, keyed) -> pl.DataFrame:
    """(key, fate) of merged rows: accepted where their parent row is, else quarantined; rows
    past their file's end are not placed. Where a row has several parents, the last one of its
    file's links, taken parent file by parent file, decides."""
    if not links.height:
        return fates.clear()
    linked = (links.with_row_index("_order")
              .select("_order", "PARENTFILE", key=keyed("SRCFILE", "SRCROW"), parent=keyed("PARENTFILE", "PARENTROW"))
              .drop_nulls("key")
              .join(size, left_on=pl.col("key") // (1 << ROW_BITS), right_on="_f", how="inner", maintain_order="left")
              .filter(pl.col("key") % (1 << ROW_BITS) < pl.col("size"))
              .join(fates.rename({"key": "parent", "fate": "_parent_fate"}), on="parent", how="left",
                    maintain_order="left"))
    first_of_parent_file = pl.col("_order").min().over(pl.col("key") // (1 << ROW_BITS), "PARENTFILE")
    return (linked.sort(first_of_parent_file, "_order", maintain_order=True)
            .unique("key", keep="last", maintain_order=True)
            .select("key", fate=pl.when(pl.col("_parent_fate") == ACCEPTED).then(ACCEPTED).otherwise(QUARANTINED)
                    .cast(pl.Int8)))
