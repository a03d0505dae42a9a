"""The rule registry: every rule, declared once, with its stable id, severity, category,
one-line description, how to correct the export (`fix`, shown with every issue) and its check.

A check (validate.checks) takes the rule and the trial's tables and returns the rule's issues as
frames; validate_trial runs every rule that has one. A rule without a check is raised where the
data is read (`raised_by`: ingest, the gate), which looks its severity and fix up here
(RULES[id]); the catalogue in the README (catalogue_markdown) and every issue's fix come from
this table too.

Ids never change meaning once released; retire an id rather than reuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from regrowth.validate.checks import (AESEV_CT, SALT_TOTAL_TOLERANCE, SEX_CT, ae_start_empty, aeser_y_n,  # noqa: F401
                                      assigned_not_dosed, disposition_terms, dosed_without_actual_arm,
                                      dosing_against_arm, empty_required, end_not_before_start,
                                      last_dose_end_empty, missing_required, mistyped, no_baseline, no_subjects,
                                      not_in_dm, not_iso_dates, outside_study_period, outside_visit_window,
                                      salt_date_incomplete, salt_total_mismatch, seq_unique, unique_keys, values)

CATALOGUE_COLUMNS = ["id", "severity", "category", "description", "fix"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning | notice
    category: str  # presence | type | terminology | range | format | uniqueness | consistency | cross-domain
    description: str
    fix: str = ""  # how to correct the export, where known
    check: Callable | None = None  # (rule, Trial) -> issue frames; None: raised elsewhere
    raised_by: str = "validation"  # where the rule's issues come from


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("RG0001", "error", "presence", "A required variable is missing from the dataset",
             "Add the variable to the export (CDISC name, one column per variable); if it is spelled differently, rename it",
             check=missing_required, raised_by="ingest and validation"),
        Rule("RG0002", "error", "presence", "A required variable has a missing value",
             "Fill in the value in the source record and export again",
             check=empty_required),
        Rule("RG0003", "error", "presence", "The trial has no DM subjects",
             "Deliver the DM dataset (dm.csv / dm.xpt / dm.json) with one row per subject",
             check=no_subjects),
        Rule("RG0004", "notice", "presence", "A mapped REDCap field is absent from the records export",
             "Export the form that holds the field, or remove the field from the REDCap mapping",
             raised_by="ingest"),
        Rule("RG0005", "notice", "format", "A text file was read in its writer's dialect: not UTF-8 (read as UTF-16, cp1252 or "
             "latin-1), NA or '.' for missing, decimal commas, a row-index column",
             "None needed; the notice names what was read how (set na_values or decimal in the trial sheet to decide it)",
             raised_by="ingest"),
        Rule("RG0006", "notice", "presence", "A source row is carried into no table (not SALT, no mapped data)",
             "None needed if the record is not meant for analysis; otherwise check its test code or event",
             raised_by="ingest"),
        Rule("RG0007", "notice", "terminology", "Values were normalised to controlled terms (case, blanks, Yes/No, 1/0, True/False)",
             "None needed; to avoid it, export the controlled terms themselves (e.g. Y/N, upper case)",
             raised_by="ingest"),
        Rule("RG0008", "error", "presence", "A variable that a derivation reads is missing from the dataset",
             "Add the variable to the export, or rename the column that holds it to its SDTM name (the message names a look-alike where there is one)",
             raised_by="ingest"),
        Rule("RG0009", "warning", "presence", "A column is not a canonical variable but is one edit from one, or a known synonym",
             "Rename the column to the canonical CDISC variable name, or drop it if it is something else",
             raised_by="ingest"),
        Rule("RG0010", "notice", "presence", "Information absent from its usual dataset was taken from another variable",
             "Check that the other variable carries the intended information; better, export it in its usual dataset",
             raised_by="ingest"),
        Rule("RG0011", "warning", "presence", "Exposure is not in the export (no EX dataset, no DM RFXSTDTC): no analysis population",
             "Deliver the EX dataset, or DM RFXSTDTC/RFXENDTC (first and last dose dates)",
             raised_by="ingest"),
        Rule("RG0012", "warning", "presence", "An SDTMIG-required variable that regrowth does not use is missing",
             "Add the variable to the export for SDTMIG conformance; the analysis does not need it",
             raised_by="ingest"),
        Rule("RG0101", "error", "type", "A numeric variable holds text that is not a number",
             "Correct the value to a plain number (decimal point '.', no units or text); leave it empty if unknown",
             check=mistyped, raised_by="ingest and validation"),
        Rule("RG0201", "error", "terminology", "SEX is not in CDISC terminology (F, M, U, UNDIFFERENTIATED)",
             "Recode SEX to F, M, U or UNDIFFERENTIATED",
             check=values("dm", "SEX", lambda v: v.is_in(SEX_CT))),
        Rule("RG0202", "warning", "terminology", "AESEV is not MILD, MODERATE or SEVERE",
             "Recode AESEV to MILD, MODERATE or SEVERE",
             check=values("ae", "AESEV", lambda v: v.is_in(AESEV_CT))),
        Rule("RG0203", "error", "terminology", "AESER is not Y or N (or is empty)",
             "Recode AESER to Y or N; the serious-AE counts depend on it",
             check=aeser_y_n),
        Rule("RG0204", "warning", "terminology", "SALT result unit (RSSTRESU) is not %",
             "Report SALT results in % of scalp (RSSTRESU = %), converting the values if needed",
             check=values("rs", "RSSTRESU", lambda v: v == "%")),
        Rule("RG0205", "error", "terminology", "Disposition DSDECOD is not a known NCOMPLT term",
             "Recode DSDECOD to a CDISC NCOMPLT term (e.g. COMPLETED, ADVERSE EVENT, WITHDRAWAL BY SUBJECT); disposition and EOSSTT depend on it",
             check=disposition_terms),
        Rule("RG0206", "error", "terminology", "A REDCap choice code is not in the data dictionary",
             "Use one of the codes the data dictionary lists for the field, or add the code to the dictionary",
             raised_by="ingest"),
        Rule("RG0207", "error", "type", "A REDCap value fails its dictionary validation type (date, integer, number)",
             "Correct the value to the field's validation type (dates as YYYY-MM-DD)",
             raised_by="ingest"),
        Rule("RG0208", "error", "terminology", "The alopecia areata subtype (MH) is not a known subtype",
             "Recode the subtype to PATCHY AA, OPHIASIS, ALOPECIA TOTALIS or ALOPECIA UNIVERSALIS",
             raised_by="ingest"),
        Rule("RG0209", "error", "terminology", "An arm (ARM, ACTARM) is spelt in several ways that differ only in case or blanks",
             "Write each arm exactly the same way for every subject",
             raised_by="ingest"),
        Rule("RG0210", "error", "terminology", "DSCAT is empty on a record whose DSDECOD is not a disposition term",
             "Set DSCAT to DISPOSITION EVENT, PROTOCOL MILESTONE or OTHER EVENT",
             raised_by="ingest"),
        Rule("RG0301", "error", "range", "A SALT score (region or total) is outside 0-100",
             "Correct the score: SALT regions and total are % hair loss, 0 to 100",
             check=values("rs", "RSSTRESN", lambda v: v.is_between(0, 100))),
        Rule("RG0302", "error", "range", "AGE is outside 0-120",
             "Correct AGE (years, 0 to 120) or its unit",
             check=values("dm", "AGE", lambda v: v.is_between(0, 120))),
        Rule("RG0303", "error", "range", "EXDOSE is negative",
             "Correct EXDOSE: a dose is 0 or more",
             check=values("ex", "EXDOSE", lambda v: v >= 0)),
        Rule("RG0304", "error", "range", "A REDCap value is outside its dictionary min/max",
             "Correct the value, or the field's min/max in the data dictionary",
             raised_by="ingest"),
        Rule("RG0401", "error", "format", "A date (--DTC) is not ISO 8601 (full or partial)",
             "Write the date as ISO 8601: YYYY-MM-DD, or YYYY-MM / YYYY when partial (e.g. 2020-02-01, not 01/02/2020)",
             check=not_iso_dates),
        Rule("RG0402", "error", "format", "A SALT assessment has no complete date (RSDTC)",
             "Give the assessment its full date (YYYY-MM-DD): without it no analysis visit, baseline or EOT can use it",
             check=salt_date_incomplete),
        Rule("RG0501", "error", "uniqueness", "USUBJID is not unique in DM",
             "Keep one DM record per subject: remove the duplicate or give each subject its own USUBJID",
             check=unique_keys("dm", ["USUBJID"], report="USUBJID")),
        Rule("RG0502", "error", "uniqueness", "--SEQ is not unique within a subject",
             "Number the subject's records 1, 2, 3, ... without repeats in --SEQ",
             check=seq_unique),
        Rule("RG0503", "error", "uniqueness", "More than one SALT record per subject, test and visit",
             "Keep one record per subject, SALT test and visit: remove the duplicate or correct its VISITNUM",
             check=unique_keys("rs", ["USUBJID", "RSTESTCD", "VISITNUM"], report="RSTESTCD")),
        Rule("RG0504", "warning", "uniqueness", "A visit (VISITNUM) is recorded twice for a subject in SV",
             "Keep one SV record per subject and visit: remove the duplicate or correct its VISITNUM",
             check=unique_keys("sv", ["USUBJID", "VISITNUM"], report="VISITNUM")),
        Rule("RG0601", "warning", "consistency", "SALT total differs from the weighted regions by more than rounding",
             "Correct the total or the region scores (total = 0.40 top + 0.24 back + 0.18 right + 0.18 left)",
             check=salt_total_mismatch),
        Rule("RG0602", "error", "consistency", "AE end date is before its start date",
             "Correct AESTDTC or AEENDTC (they may be swapped)",
             check=end_not_before_start("ae", "AESTDTC", "AEENDTC")),
        Rule("RG0603", "error", "consistency", "Exposure end date is before its start date",
             "Correct EXSTDTC or EXENDTC (they may be swapped)",
             check=end_not_before_start("ex", "EXSTDTC", "EXENDTC")),
        Rule("RG0604", "warning", "consistency", "An AE has no start date: it counts as treatment-emergent",
             "Add AESTDTC (a partial date is enough); an AE without one counts as emergent unless it ended before the first dose",
             check=ae_start_empty),
        Rule("RG0605", "warning", "consistency", "A subject's last exposure record has no end date (EXENDTC)",
             "Add EXENDTC; until then the last dose is DM's RFXENDTC where that is later, else the record's start",
             check=last_dose_end_empty),
        Rule("RG0701", "error", "cross-domain", "A subject in this domain is not in DM",
             "Add the subject to DM, or correct the USUBJID to the subject's DM value",
             check=not_in_dm),
        Rule("RG0702", "warning", "cross-domain", "A treated subject has no baseline SALT",
             "Add the baseline SALT assessment, or check its date against the first dose (EXSTDTC)",
             check=no_baseline),
        Rule("RG0703", "notice", "cross-domain", "A subject assigned to an arm has no exposure record",
             "Add the subject's EX records, or set ARM if the subject was never treated",
             check=assigned_not_dosed),
        Rule("RG0704", "warning", "cross-domain", "A date lies outside the subject's study period",
             "Check the date, and the subject's study dates in DM (RFSTDTC, RFENDTC), DS and SV",
             check=outside_study_period),
        Rule("RG0705", "warning", "cross-domain", "Dosing is inconsistent with the arm (placebo vs active)",
             "Check EXTRT/EXDOSE against the subject's ARM/ACTARM",
             check=dosing_against_arm),
        Rule("RG0706", "warning", "cross-domain", "A SALT assessment lies outside its visit's window",
             "Check the assessment date (RSDTC) and the visit it is recorded under (VISIT, VISITNUM)",
             check=outside_visit_window),
        Rule("RG0707", "warning", "cross-domain", "A dosed subject has no actual arm (ACTARM)",
             "Set ACTARM to the treatment received; until then safety counts the subject under the planned arm (ARM)",
             check=dosed_without_actual_arm),
        Rule("RG0708", "error", "cross-domain", "The subject's DM record is quarantined (quarantine policy)",
             "Correct the subject's DM record (see its own issues); the subject's other rows then pass",
             raised_by="gate"),
        Rule("RG0709", "warning", "cross-domain", "A SUPP record has no parent record",
             "Check IDVAR/IDVARVAL in the SUPP dataset against the parent record's values",
             raised_by="ingest"),
    ]
}


def rule(rule_id: str) -> Rule:
    """The registry's rule of an id, for code that raises it (ingest, the gate)."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"{rule_id} is not in the rule registry (regrowth.validate.rules): declare it there") from None


def catalogue():
    """The catalogue as a pandas table: rule_id, severity, category, description, fix."""
    import pandas as pd

    return pd.DataFrame([{c: getattr(r, c) for c in CATALOGUE_COLUMNS} for r in RULES.values()]).rename(
        columns={"id": "rule_id"})


def catalogue_markdown() -> str:
    """The catalogue table, then where the rules are checked."""
    lines = ["| rule | severity | category | description | how to fix |", "|---|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| {r.id} | {r.severity} | {r.category} | {r.description} | {r.fix} |")
    where: dict[str, list[str]] = {}
    for r in RULES.values():
        where.setdefault(r.raised_by, []).append(r.id)
    lines += ["", "Checked where the export is read (`src/regrowth/ingest/`): " + ", ".join(where.pop("ingest", [])) + ";",
              "there and again on the tables (a table handed to validation directly): "
              + ", ".join(where.pop("ingest and validation", [])) + ";",
              "by the gate (`src/regrowth/validate/gate.py`): " + ", ".join(where.pop("gate", [])) + ";",
              "every other rule by validation, its check declared with it in `src/regrowth/validate/rules.py` "
              "(`checks.py`)."]
    assert set(where) <= {"validation"}, where
    return "\n".join(lines)


def write_catalogue(readme: str) -> None:
    """Rewrite the catalogue block of a Markdown file: python -m regrowth.validate.rules README.md"""
    from regrowth.model import write_markdown_block

    write_markdown_block(readme, "rule-catalogue", catalogue_markdown())


if __name__ == "__main__":
    import sys

    write_catalogue(sys.argv[1] if len(sys.argv) > 1 else "README.md")
