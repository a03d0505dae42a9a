"""The gate between validation and derivation: a trial with errors stops here."""

from __future__ import annotations

import pandas as pd

from regrowth.errors import ValidationFailed

SHOW_AT_MOST = 20


def describe(issue: dict) -> str:
    where = ", ".join(
        f"{k} {issue[k]}" for k in ("file", "row", "usubjid", "column") if pd.notna(issue.get(k))
    )
    return f"[{issue['rule_id']} {issue['severity']}] {issue['dataset']} ({where}): {issue['message']}"


def check_no_errors(issues: pd.DataFrame, trial_id: str, issues_path: str) -> None:
    errors = issues[issues["severity"] == "error"]
    if errors.empty:
        return
    lines = [describe(rec) for rec in errors.head(SHOW_AT_MOST).to_dict("records")]
    more = len(errors) - len(lines)
    raise ValidationFailed(
        f"trial {trial_id}: {len(errors)} validation error(s); it stops here. "
        f"Every issue is listed in {issues_path}.\n  "
        + "\n  ".join(lines)
        + (f"\n  ... and {more} more" if more > 0 else "")
    )
