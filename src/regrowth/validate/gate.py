"""The gate between validation and derivation.

Policy 'strict': any error stops the trial. Policy 'quarantine': rows that fail a row-level
error rule are set aside with their rule ids (a subject whose DM record is set aside takes all
its rows along) and the rest continue; errors that no row carries (a missing required variable,
no subjects) still stop the trial.

Either way every source row is accounted for: rows_in = rows_accepted + rows_quarantined per
export file, where source rows carried into no table (not SALT, no mapped data, orphan SUPP)
count as quarantined with their reason. A row with no fate is a bug and fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from regrowth.frames import isin
from regrowth.errors import ContractError, ValidationFailed
from regrowth.issues import is_text_file
from regrowth.model import DOMAINS, SOURCE_ORDER
from regrowth.validate.rules import RULES

SHOW_AT_MOST = 20
METADATA_FORMATS = {"redcap-dictionary", "redcap-mapping"}  # describe the data; hold no records
ACCOUNTING_COLUMNS = ["file", "rows_in", "rows_accepted", "rows_quarantined"]


def where_in_file(issue: dict) -> str | None:
    """Where a row is, as the data manager finds it: in a CSV file 'data row 3 (line 4)' (the
    header is line 1), in XPT and Dataset-JSON 'record 3'."""
    row = issue.get("row")
    if row is None or pd.isna(row):
        return None
    if is_text_file(issue.get("file")):
        line = issue.get("line")
        return f"data row {int(row)}" + ("" if line is None or pd.isna(line) else f" (line {int(line)})")
    return f"record {int(row)}"


def describe(issue: dict) -> str:
    parts = [f"file {issue['file']}" if pd.notna(issue.get("file")) else None, where_in_file(issue)]
    parts += [f"{k} {issue[k]}" for k in ("usubjid", "column") if pd.notna(issue.get(k))]
    where = ", ".join(p for p in parts if p)
    rule = RULES.get(issue["rule_id"])
    advice = issue.get("fix") if pd.notna(issue.get("fix")) else (rule.fix if rule is not None else "")
    fix = f" Fix: {str(advice).rstrip('.')}." if advice else ""
    message = str(issue["message"]).rstrip(".")
    return f"[{issue['rule_id']} {issue['severity']}] {issue['dataset']} ({where}): {message}.{fix}"


def issue_files(issues_path: str) -> str:
    """The issue list's files: the workflow writes validation.parquet and validation.csv side by side."""
    path = str(issues_path)
    if path.endswith(".parquet"):
        return f"{path[: -len('.parquet')]}.csv (and {path})"
    return path


def _stop(errors: pd.DataFrame, trial_id: str, issues_path: str, why: str) -> None:
    lines = [describe(rec) for rec in errors.head(SHOW_AT_MOST).to_dict("records")]
    more = len(errors) - len(lines)
    raise ValidationFailed(
        f"trial {trial_id}: {len(errors)} validation error(s){why}; it stops here. "
        f"Every issue is listed in {issue_files(issues_path)}, with the file, row, line and column of each "
        "and how to fix it.\n  "
        + "\n  ".join(lines)
        + (f"\n  ... and {more} more" if more > 0 else "")
    )


def check_no_errors(issues: pd.DataFrame, trial_id: str, issues_path: str) -> None:
    errors = issues[issues["severity"] == "error"]
    if not errors.empty:
        _stop(errors, trial_id, issues_path, "")


@dataclass
class Gated:
    tables: dict[str, pd.DataFrame]  # accepted rows, canonical columns
    quarantine: dict[str, pd.DataFrame]  # per domain (+ QRULES, QREASON) and 'unmapped'
    accounting: pd.DataFrame  # per export file: rows_in, rows_accepted, rows_quarantined


def _row_flags(tables: dict[str, pd.DataFrame], errors: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """(rule_id, message) per failing canonical row, per domain, in the order of the errors.

    Joined on (file, row) once per domain: a loop over the errors would scan every table
    once per error, hours for a large trial with thousands of quarantined rows."""
    errs = pd.DataFrame({"file": errors["file"].astype("str"), "row": errors["row"].astype("float64"),
                         "rule": errors["rule_id"], "message": errors["message"], "dataset": errors["dataset"],
                         "_order": np.arange(len(errors))})
    flags = {}
    for d, t in tables.items():
        mine = errs[isin(errs["dataset"], [DOMAINS[d].name, "REDCAP"])]
        source = pd.DataFrame({"i": t.index, "file": t["SRCFILE"].astype("str"),
                               "row": t["SRCROW"].astype("float64")})
        hit = source.merge(mine, on=["file", "row"], how="inner").sort_values(["_order", "i"], kind="stable")
        flags[d] = hit[["i", "rule", "message"]].reset_index(drop=True)
    return flags


def apply_policy(tables: dict[str, pd.DataFrame], issues: pd.DataFrame, files: pd.DataFrame,
                 unmapped: pd.DataFrame, links: pd.DataFrame, *, policy: str, trial_id: str,
                 issues_path: str) -> Gated:
    errors = issues[issues["severity"] == "error"]
    if policy == "strict":
        check_no_errors(issues, trial_id, issues_path)
    elif policy == "quarantine":
        unplaceable = errors[errors["row"].isna() | errors["file"].isna()]
        if not unplaceable.empty:
            _stop(unplaceable, trial_id, issues_path, " that no single row carries, so quarantine cannot set them aside")
    else:
        raise ValueError(f"unknown validation policy {policy!r}")
    flags = _row_flags(tables, errors.dropna(subset=["row", "file"]))
    # a subject whose DM record is quarantined has no analysable rows anywhere
    dm = tables["dm"]
    gone = set(dm.loc[flags["dm"]["i"].unique(), "USUBJID"].dropna()) if len(flags["dm"]) else set()
    accepted, quarantine = {}, {}
    for d, t in tables.items():
        f = flags[d]
        if gone and d != "dm":
            extra = t.index[isin(t["USUBJID"], list(gone)) & ~t.index.isin(f["i"])]
            f = pd.concat([f, pd.DataFrame({"i": extra, "rule": "RG0708",
                                            "message": "the subject's DM record is quarantined"})])
        grouped = f.groupby("i").agg(QRULES=("rule", lambda r: ",".join(sorted(set(r)))),
                                     QREASON=("message", lambda m: " | ".join(dict.fromkeys(m))))
        bad = t.index.isin(grouped.index)
        accepted[d] = t[~bad].reset_index(drop=True) if bad.any() else t.reset_index(drop=True)  # no copy
        q = t[bad].copy()
        q["QRULES"] = grouped["QRULES"].reindex(q.index).astype("str")
        q["QREASON"] = grouped["QREASON"].reindex(q.index).astype("str")
        quarantine[d] = q.reset_index(drop=True)
    quarantine["unmapped"] = unmapped.sort_values(SOURCE_ORDER, kind="stable").reset_index(drop=True)
    return Gated(accepted, quarantine, account(files, accepted, quarantine, unmapped, links))


QUARANTINED, ACCEPTED = 1, 2  # a source row's fate; 0 = none yet


def account(files: pd.DataFrame, accepted: dict, quarantine: dict, unmapped: pd.DataFrame,
            links: pd.DataFrame) -> pd.DataFrame:
    """Fate of every source row, per export file. rows_in may count only some of a file's rows
    (one partition of a split export): then exactly that many rows must have a fate."""
    data_files = files[~files["format"].isin(METADATA_FORMATS)]
    tables = [(t, QUARANTINED) for d, t in quarantine.items() if d != "unmapped"]
    tables += [(t, ACCEPTED) for t in accepted.values()]  # feeding any accepted record: accepted
    tables += [(unmapped, QUARANTINED)]

    def rows_of(t: pd.DataFrame, file: str) -> np.ndarray:
        r = t.loc[t["SRCFILE"] == file, "SRCROW"].to_numpy(dtype="float64")
        return r[~np.isnan(r) & (r >= 1)].astype(np.int64)

    fates = {}
    for file, n in zip(data_files["file"], data_files["rows_in"]):
        found = [(rows_of(t, file), fate) for t, fate in tables]
        size = max([int(n)] + [int(r.max()) for r, _ in found if len(r)]) + 1
        fates[file] = np.zeros(size, dtype=np.int8)
        for r, fate in found:
            fates[file][r] = fate
    # merged rows (SUPPxx) share their parent's fate; a parent with none leaves them quarantined
    shared = []
    for file in fates:
        for pfile, rows in links[links["SRCFILE"] == file].groupby("PARENTFILE", sort=False):
            child = rows["SRCROW"].to_numpy(dtype="int64")
            parent = rows["PARENTROW"].to_numpy(dtype="int64")
            value = np.full(len(child), QUARANTINED, dtype=np.int8)
            known = fates.get(pfile)
            if known is not None:
                ok = (parent >= 1) & (parent < len(known))
                value[ok] = np.maximum(known[parent[ok]], QUARANTINED)
            shared.append((file, child, value))
    for file, child, value in shared:
        ok = (child >= 1) & (child < len(fates[file]))
        fates[file][child[ok]] = value[ok]
    rows = []
    for (file, fate), n in zip(fates.items(), data_files["rows_in"]):
        n = int(n)
        if int((fate != 0).sum()) != n:
            lost = np.flatnonzero(fate[1 : n + 1] == 0) + 1 if len(fate) == n + 1 else np.array([], int)
            raise ContractError(f"{file}: {n - int((fate != 0).sum())} source row(s) have no fate (bug)"
                                + (f": rows {lost[:10].tolist()}" if len(lost) else ""))
        acc = int((fate == ACCEPTED).sum())
        rows.append({"file": file, "rows_in": n, "rows_accepted": acc, "rows_quarantined": n - acc})
    return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
