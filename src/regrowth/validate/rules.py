"""The rule catalogue: every check has a stable id, severity, category, one-line description and
how to correct the export (`fix`, shown with every issue).

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
    fix: str = ""  # how to correct the export, where known


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("RG0001", "error", "presence", "A required variable is missing from the dataset",
             "Add the variable to the export (CDISC name, one column per variable); if it is spelled differently, rename it"),
        Rule("RG0002", "error", "presence", "A required variable has a missing value",
             "Fill in the value in the source record and export again"),
        Rule("RG0003", "error", "presence", "The trial has no DM subjects",
             "Deliver the DM dataset (dm.csv / dm.xpt / dm.json) with one row per subject"),
        Rule("RG0004", "notice", "presence", "A mapped REDCap field is absent from the records export",
             "Export the form that holds the field, or remove the field from the REDCap mapping"),
        Rule("RG0005", "notice", "format", "A text file is not UTF-8 and was read as UTF-16, cp1252 or latin-1",
             "None needed; to avoid it, save the export as UTF-8"),
        Rule("RG0006", "notice", "presence", "A source row is carried into no table (not SALT, no mapped data)",
             "None needed if the record is not meant for analysis; otherwise check its test code or event"),
        Rule("RG0007", "notice", "terminology", "Values were normalised to controlled terms (case, blanks, Yes/No, 1/0, True/False)",
             "None needed; to avoid it, export the controlled terms themselves (e.g. Y/N, upper case)"),
        Rule("RG0008", "error", "presence", "A variable that a derivation reads is missing from the dataset",
             "Add the variable to the export, or rename the column that holds it to its SDTM name (the message names a look-alike where there is one)"),
        Rule("RG0009", "warning", "presence", "A column is not a canonical variable but is one edit from one, or a known synonym",
             "Rename the column to the canonical CDISC variable name, or drop it if it is something else"),
        Rule("RG0010", "notice", "presence", "Information absent from its usual dataset was taken from another variable",
             "Check that the other variable carries the intended information; better, export it in its usual dataset"),
        Rule("RG0011", "warning", "presence", "Exposure is not in the export (no EX dataset, no DM RFXSTDTC): no analysis population",
             "Deliver the EX dataset, or DM RFXSTDTC/RFXENDTC (first and last dose dates)"),
        Rule("RG0012", "warning", "presence", "An SDTMIG-required variable that regrowth does not use is missing",
             "Add the variable to the export for SDTMIG conformance; the analysis does not need it"),
        Rule("RG0101", "error", "type", "A numeric variable holds text that is not a number",
             "Correct the value to a plain number (decimal point '.', no units or text); leave it empty if unknown"),
        Rule("RG0201", "error", "terminology", "SEX is not in CDISC terminology (F, M, U, UNDIFFERENTIATED)",
             "Recode SEX to F, M, U or UNDIFFERENTIATED"),
        Rule("RG0202", "warning", "terminology", "AESEV is not MILD, MODERATE or SEVERE",
             "Recode AESEV to MILD, MODERATE or SEVERE"),
        Rule("RG0203", "error", "terminology", "AESER is not Y or N (or is empty)",
             "Recode AESER to Y or N; the serious-AE counts depend on it"),
        Rule("RG0204", "warning", "terminology", "SALT result unit (RSSTRESU) is not %",
             "Report SALT results in % of scalp (RSSTRESU = %), converting the values if needed"),
        Rule("RG0205", "error", "terminology", "Disposition DSDECOD is not a known NCOMPLT term",
             "Recode DSDECOD to a CDISC NCOMPLT term (e.g. COMPLETED, ADVERSE EVENT, WITHDRAWAL BY SUBJECT); disposition and EOSSTT depend on it"),
        Rule("RG0206", "error", "terminology", "A REDCap choice code is not in the data dictionary",
             "Use one of the codes the data dictionary lists for the field, or add the code to the dictionary"),
        Rule("RG0207", "error", "type", "A REDCap value fails its dictionary validation type (date, integer, number)",
             "Correct the value to the field's validation type (dates as YYYY-MM-DD)"),
        Rule("RG0208", "error", "terminology", "The alopecia areata subtype (MH) is not a known subtype",
             "Recode the subtype to PATCHY AA, OPHIASIS, ALOPECIA TOTALIS or ALOPECIA UNIVERSALIS"),
        Rule("RG0209", "error", "terminology", "An arm (ARM, ACTARM) is spelt in several ways that differ only in case or blanks",
             "Write each arm exactly the same way for every subject"),
        Rule("RG0210", "error", "terminology", "DSCAT is empty on a record whose DSDECOD is not a disposition term",
             "Set DSCAT to DISPOSITION EVENT, PROTOCOL MILESTONE or OTHER EVENT"),
        Rule("RG0301", "error", "range", "A SALT score (region or total) is outside 0-100",
             "Correct the score: SALT regions and total are % hair loss, 0 to 100"),
        Rule("RG0302", "error", "range", "AGE is outside 0-120",
             "Correct AGE (years, 0 to 120) or its unit"),
        Rule("RG0303", "error", "range", "EXDOSE is negative",
             "Correct EXDOSE: a dose is 0 or more"),
        Rule("RG0304", "error", "range", "A REDCap value is outside its dictionary min/max",
             "Correct the value, or the field's min/max in the data dictionary"),
        Rule("RG0401", "error", "format", "A date (--DTC) is not ISO 8601 (full or partial)",
             "Write the date as ISO 8601: YYYY-MM-DD, or YYYY-MM / YYYY when partial (e.g. 2020-02-01, not 01/02/2020)"),
        Rule("RG0402", "error", "format", "A SALT assessment has no complete date (RSDTC)",
             "Give the assessment its full date (YYYY-MM-DD): without it no analysis visit, baseline or EOT can use it"),
        Rule("RG0501", "error", "uniqueness", "USUBJID is not unique in DM",
             "Keep one DM record per subject: remove the duplicate or give each subject its own USUBJID"),
        Rule("RG0502", "error", "uniqueness", "--SEQ is not unique within a subject",
             "Number the subject's records 1, 2, 3, ... without repeats in --SEQ"),
        Rule("RG0503", "error", "uniqueness", "More than one SALT record per subject, test and visit",
             "Keep one record per subject, SALT test and visit: remove the duplicate or correct its VISITNUM"),
        Rule("RG0504", "warning", "uniqueness", "A visit (VISITNUM) is recorded twice for a subject in SV",
             "Keep one SV record per subject and visit: remove the duplicate or correct its VISITNUM"),
        Rule("RG0601", "warning", "consistency", "SALT total differs from the weighted regions by more than rounding",
             "Correct the total or the region scores (total = 0.40 top + 0.24 back + 0.18 right + 0.18 left)"),
        Rule("RG0602", "error", "consistency", "AE end date is before its start date",
             "Correct AESTDTC or AEENDTC (they may be swapped)"),
        Rule("RG0603", "error", "consistency", "Exposure end date is before its start date",
             "Correct EXSTDTC or EXENDTC (they may be swapped)"),
        Rule("RG0604", "warning", "consistency", "An AE has no start date: it counts as treatment-emergent",
             "Add AESTDTC (a partial date is enough); an AE without one counts as emergent unless it ended before the first dose"),
        Rule("RG0605", "warning", "consistency", "A subject's last exposure record has no end date (EXENDTC)",
             "Add EXENDTC; until then the last dose is DM's RFXENDTC where that is later, else the record's start"),
        Rule("RG0701", "error", "cross-domain", "A subject in this domain is not in DM",
             "Add the subject to DM, or correct the USUBJID to the subject's DM value"),
        Rule("RG0702", "warning", "cross-domain", "A treated subject has no baseline SALT",
             "Add the baseline SALT assessment, or check its date against the first dose (EXSTDTC)"),
        Rule("RG0703", "notice", "cross-domain", "A subject assigned to an arm has no exposure record",
             "Add the subject's EX records, or set ARM if the subject was never treated"),
        Rule("RG0704", "warning", "cross-domain", "A date lies outside the subject's study period",
             "Check the date, and the subject's study dates in DM (RFSTDTC, RFENDTC), DS and SV"),
        Rule("RG0705", "warning", "cross-domain", "Dosing is inconsistent with the arm (placebo vs active)",
             "Check EXTRT/EXDOSE against the subject's ARM/ACTARM"),
        Rule("RG0706", "warning", "cross-domain", "A SALT assessment lies outside its visit's window",
             "Check the assessment date (RSDTC) and the visit it is recorded under (VISIT, VISITNUM)"),
        Rule("RG0707", "warning", "cross-domain", "A dosed subject has no actual arm (ACTARM)",
             "Set ACTARM to the treatment received; until then safety counts the subject under the planned arm (ARM)"),
        Rule("RG0708", "error", "cross-domain", "The subject's DM record is quarantined (quarantine policy)",
             "Correct the subject's DM record (see its own issues); the subject's other rows then pass"),
        Rule("RG0709", "warning", "cross-domain", "A SUPP record has no parent record",
             "Check IDVAR/IDVARVAL in the SUPP dataset against the parent record's values"),
    ]
}


def catalogue() -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in RULES.values()]).rename(columns={"id": "rule_id"})


def catalogue_markdown() -> str:
    lines = ["| rule | severity | category | description | how to fix |", "|---|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| {r.id} | {r.severity} | {r.category} | {r.description} | {r.fix} |")
    return "\n".join(lines)


def write_catalogue(readme: str) -> None:
    """Rewrite the catalogue block of a Markdown file: python -m regrowth.validate.rules README.md"""
    from regrowth.model import write_markdown_block

    write_markdown_block(readme, "rule-catalogue", catalogue_markdown())


if __name__ == "__main__":
    import sys

    write_catalogue(sys.argv[1] if len(sys.argv) > 1 else "README.md")
