"""The rule catalogue: every check has a stable id, severity, category and one-line description.

Ids never change meaning once released; retire an id rather than reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SALT_TOTAL_TOLERANCE = 0.1 + 1e-9  # RG0601: the total is reported to one decimal


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning | notice
    category: str  # presence | type | terminology | range | format | uniqueness | consistency | cross-domain
    description: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("RG0001", "error", "presence", "A required variable is missing from the dataset"),
        Rule("RG0002", "error", "presence", "A required variable has a missing value"),
        Rule("RG0003", "error", "presence", "The trial has no DM subjects"),
        Rule("RG0004", "notice", "presence", "A mapped REDCap field is absent from the records export"),
        Rule("RG0005", "notice", "format", "A text file is not UTF-8 and was read as UTF-16, cp1252 or latin-1"),
        Rule("RG0006", "notice", "presence", "A source row is carried into no table (not SALT, no mapped data)"),
        Rule("RG0007", "notice", "terminology", "Values were normalised to controlled terms (case, blanks, Yes/No, 1/0, True/False)"),
        Rule("RG0008", "error", "presence", "A variable that a derivation reads is missing from the dataset"),
        Rule("RG0009", "warning", "presence", "A column is not a canonical variable but is one edit from one, or a known synonym"),
        Rule("RG0010", "notice", "presence", "Information absent from its usual dataset was taken from another variable"),
        Rule("RG0011", "warning", "presence", "Exposure is not in the export (no EX dataset, no DM RFXSTDTC): no analysis population"),
        Rule("RG0012", "warning", "presence", "An SDTMIG-required variable that regrowth does not use is missing"),
        Rule("RG0101", "error", "type", "A numeric variable holds text that is not a number"),
        Rule("RG0201", "error", "terminology", "SEX is not in CDISC terminology (F, M, U, UNDIFFERENTIATED)"),
        Rule("RG0202", "warning", "terminology", "AESEV is not MILD, MODERATE or SEVERE"),
        Rule("RG0203", "warning", "terminology", "AESER is not Y or N"),
        Rule("RG0204", "warning", "terminology", "SALT result unit (RSSTRESU) is not %"),
        Rule("RG0205", "warning", "terminology", "Disposition DSDECOD is not a known NCOMPLT term"),
        Rule("RG0206", "error", "terminology", "A REDCap choice code is not in the data dictionary"),
        Rule("RG0207", "error", "type", "A REDCap value fails its dictionary validation type (date, integer, number)"),
        Rule("RG0208", "error", "terminology", "The alopecia areata subtype (MH) is not a known subtype"),
        Rule("RG0301", "error", "range", "A SALT score (region or total) is outside 0-100"),
        Rule("RG0302", "error", "range", "AGE is outside 0-120"),
        Rule("RG0303", "error", "range", "EXDOSE is negative"),
        Rule("RG0304", "error", "range", "A REDCap value is outside its dictionary min/max"),
        Rule("RG0401", "error", "format", "A date (--DTC) is not ISO 8601 (full or partial)"),
        Rule("RG0501", "error", "uniqueness", "USUBJID is not unique in DM"),
        Rule("RG0502", "error", "uniqueness", "--SEQ is not unique within a subject"),
        Rule("RG0503", "error", "uniqueness", "More than one SALT record per subject, test and visit"),
        Rule("RG0504", "warning", "uniqueness", "A visit (VISITNUM) is recorded twice for a subject in SV"),
        Rule("RG0601", "warning", "consistency", "SALT total differs from the weighted regions by more than rounding"),
        Rule("RG0602", "error", "consistency", "AE end date is before its start date"),
        Rule("RG0603", "error", "consistency", "Exposure end date is before its start date"),
        Rule("RG0701", "error", "cross-domain", "A subject in this domain is not in DM"),
        Rule("RG0702", "warning", "cross-domain", "A treated subject has no baseline SALT"),
        Rule("RG0703", "notice", "cross-domain", "A subject assigned to an arm has no exposure record"),
        Rule("RG0704", "warning", "cross-domain", "A date lies outside the subject's study period"),
        Rule("RG0705", "warning", "cross-domain", "Dosing is inconsistent with the arm (placebo vs active)"),
        Rule("RG0706", "warning", "cross-domain", "A SALT assessment lies outside its visit's window"),
        Rule("RG0708", "error", "cross-domain", "The subject's DM record is quarantined (quarantine policy)"),
        Rule("RG0709", "warning", "cross-domain", "A SUPP record has no parent record"),
    ]
}


def catalogue() -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in RULES.values()]).rename(columns={"id": "rule_id"})


def catalogue_markdown() -> str:
    lines = ["| rule | severity | category | description |", "|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| {r.id} | {r.severity} | {r.category} | {r.description} |")
    return "\n".join(lines)


START, END = "<!-- rule-catalogue:start -->", "<!-- rule-catalogue:end -->"


def write_catalogue(readme: str) -> None:
    """Rewrite the catalogue block of a Markdown file: python -m regrowth.validate.rules README.md"""
    from pathlib import Path

    path = Path(readme)
    text = path.read_text()
    head, rest = text.split(START)
    _old, tail = rest.split(END)
    path.write_text(f"{head}{START}\n{catalogue_markdown()}\n{END}{tail}")


if __name__ == "__main__":
    import sys

    write_catalogue(sys.argv[1] if len(sys.argv) > 1 else "README.md")
