"""The simulated REDCap project of the ruxolitinib pilot: forms, fields, events, codes.

The simulator writes its export in this layout. Ingestion does not read this module: like any
project's, this export is mapped by its mapping file (resources/trials/NCT01950780/mapping.yaml),
and the round-trip test keeps the two in agreement.
"""

from __future__ import annotations

STUDY = {
    "STUDYID": "NCT01950780",
    "SITEID": "01",
    "COUNTRY": "USA",
    "ARM": "Ruxolitinib 20 mg BID",
    "ARMCD": "RUX20",
    "EXTRT": "RUXOLITINIB",
    "EXROUTE": "ORAL",
    "EXDOSU": "mg",
}

# (field, form, type, label, choices, validation, min, max)
FIELDS: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("record_id", "demographics", "text", "Record ID", "", "", "", ""),
    ("consent_date", "demographics", "text", "Date of informed consent", "", "date_ymd", "", ""),
    ("age", "demographics", "text", "Age (years)", "", "integer", "18", "100"),
    ("sex", "demographics", "radio", "Sex", "1, Female | 2, Male", "", "", ""),
    ("race", "demographics", "checkbox", "Race (check all that apply)",
     "1, White | 2, Black or African American | 3, Asian | 4, American Indian or Alaska Native"
     " | 5, Native Hawaiian or Other Pacific Islander | 6, Other", "", "", ""),
    ("ethnicity", "demographics", "radio", "Ethnicity",
     "1, Hispanic or Latino | 2, Not Hispanic or Latino | 3, Unknown", "", "", ""),
    ("aa_subtype", "demographics", "radio", "Alopecia areata subtype",
     "1, Patchy alopecia areata | 2, Ophiasis | 3, Alopecia totalis | 4, Alopecia universalis", "", "", ""),
    ("aa_onset", "demographics", "text", "Onset of alopecia areata (YYYY-MM)", "", "", "", ""),
    ("atopic_derm", "demographics", "yesno", "History of atopic dermatitis", "", "", "", ""),
    ("salt_date", "salt", "text", "Assessment date", "", "date_ymd", "", ""),
    ("salt_top", "salt", "text", "Vertex/top: % hair loss", "", "number", "0", "100"),
    ("salt_back", "salt", "text", "Posterior/back: % hair loss", "", "number", "0", "100"),
    ("salt_right", "salt", "text", "Right side: % hair loss", "", "number", "0", "100"),
    ("salt_left", "salt", "text", "Left side: % hair loss", "", "number", "0", "100"),
    ("salt_total", "salt", "calc", "SALT score",
     "round(0.4*[salt_top]+0.24*[salt_back]+0.18*[salt_right]+0.18*[salt_left],1)", "", "", ""),
    ("drug_start", "study_drug", "text", "First dose date", "", "date_ymd", "", ""),
    ("drug_stop", "study_drug", "text", "Last dose date", "", "date_ymd", "", ""),
    ("drug_dose", "study_drug", "text", "Dose (mg)", "", "number", "0", "100"),
    ("drug_freq", "study_drug", "radio", "Frequency", "1, BID | 2, QD", "", "", ""),
    ("ae_term", "adverse_events", "text", "Adverse event (verbatim)", "", "", "", ""),
    ("ae_pt", "adverse_events", "text", "MedDRA preferred term", "", "", "", ""),
    ("ae_soc", "adverse_events", "text", "MedDRA system organ class", "", "", "", ""),
    ("ae_start", "adverse_events", "text", "Start date", "", "date_ymd", "", ""),
    ("ae_end", "adverse_events", "text", "End date", "", "date_ymd", "", ""),
    ("ae_severity", "adverse_events", "radio", "Severity", "1, Mild | 2, Moderate | 3, Severe", "", "", ""),
    ("ae_serious", "adverse_events", "yesno", "Serious", "", "", "", ""),
    ("ae_related", "adverse_events", "radio", "Relationship to study drug",
     "1, Not related | 2, Possibly related | 3, Related", "", "", ""),
    ("eos_date", "end_of_study", "text", "Date of last contact", "", "date_ymd", "", ""),
    ("eos_status", "end_of_study", "radio", "Study completion status",
     "1, Completed | 2, Adverse event | 3, Withdrawal by subject | 4, Lost to follow-up"
     " | 5, Physician decision", "", "", ""),
]


# Codes to CDISC controlled terminology.
CODES = {
    "sex": {"1": "F", "2": "M"},
    "race": {"1": "WHITE", "2": "BLACK OR AFRICAN AMERICAN", "3": "ASIAN",
             "4": "AMERICAN INDIAN OR ALASKA NATIVE", "5": "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
             "6": "OTHER"},
    "ethnicity": {"1": "HISPANIC OR LATINO", "2": "NOT HISPANIC OR LATINO", "3": "UNKNOWN"},
    "aa_subtype": {"1": "PATCHY AA", "2": "OPHIASIS", "3": "ALOPECIA TOTALIS", "4": "ALOPECIA UNIVERSALIS"},
    "drug_freq": {"1": "BID", "2": "QD"},
    "ae_severity": {"1": "MILD", "2": "MODERATE", "3": "SEVERE"},
    "ae_serious": {"1": "Y", "0": "N"},
    "ae_related": {"1": "NOT RELATED", "2": "POSSIBLY RELATED", "3": "RELATED"},
    "eos_status": {"1": "COMPLETED", "2": "ADVERSE EVENT", "3": "WITHDRAWAL BY SUBJECT",
                   "4": "LOST TO FOLLOW-UP", "5": "PHYSICIAN DECISION"},
}

SALT_FIELDS = {"SALT01": "salt_top", "SALT02": "salt_back", "SALT03": "salt_right",
               "SALT04": "salt_left", "SALTTOT": "salt_total"}


def event_for_visit(visit: str) -> str:
    """'WEEK 12' -> 'week_12_arm_1' (REDCap unique event names)."""
    return visit.lower().replace(" ", "_") + "_arm_1"


def visit_for_event(event: str) -> str:
    return event.removesuffix("_arm_1").replace("_", " ").upper()


def visitnum_for_visit(visit: str) -> float:
    """Chronological visit numbers: SCREENING 1, BASELINE 2, WEEK w -> 2 + w/4."""
    if visit == "SCREENING":
        return 1.0
    if visit == "BASELINE":
        return 2.0
    return 2.0 + int(visit.split()[1]) / 4


def field_columns() -> list[str]:
    """Data columns of the records export, checkbox fields expanded to field___code."""
    cols = []
    for name, _form, ftype, _label, choices, *_ in FIELDS:
        if ftype == "checkbox":
            cols += [f"{name}___{c.split(',')[0].strip()}" for c in choices.split("|")]
        elif name != "record_id":
            cols.append(name)
    return cols


def record_columns() -> list[str]:
    """Every column of the records export in REDCap's order: ids, each form's fields, form_complete."""
    cols = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"]
    fields = field_columns()
    k = 0
    forms = list(dict.fromkeys(form for _n, form, *_ in FIELDS))
    for form in forms:
        for name, f, ftype, *_ in FIELDS:
            if f != form or name == "record_id":
                continue
            width = len([c for c in fields if c == name or c.startswith(f"{name}___")])
            cols += fields[k : k + width]
            k += width
        cols.append(f"{form}_complete")
    return cols


def dictionary_rows() -> list[dict[str, str]]:
    """The data dictionary in REDCap's 18-column layout."""
    out = []
    for name, form, ftype, label, choices, validation, vmin, vmax in FIELDS:
        out.append(
            {
                "Variable / Field Name": name,
                "Form Name": form,
                "Section Header": "",
                "Field Type": ftype,
                "Field Label": label,
                "Choices, Calculations, OR Slider Labels": choices,
                "Field Note": "",
                "Text Validation Type OR Show Slider Number": validation,
                "Text Validation Min": vmin,
                "Text Validation Max": vmax,
                "Identifier?": "",
                "Branching Logic (Show field only if...)": "",
                "Required Field?": "y" if name in {"record_id", "salt_date", "ae_term"} else "",
                "Custom Alignment": "",
                "Question Number (surveys only)": "",
                "Matrix Group Name": "",
                "Matrix Ranking?": "",
                "Field Annotation": "",
            }
        )
    return out
