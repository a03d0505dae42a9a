"""Tiny hand-made SDTM tables for derivation tests (every value visible in the test)."""

import pandas as pd

from regrowth.model import conform

STUDY = "T1"


def dm(*subjects, arm="Drug A"):
    rows = [{"STUDYID": STUDY, "DOMAIN": "DM", "USUBJID": u, "SEX": "F", "AGE": 40.0, "ARM": arm, "ACTARM": arm}
            for u in subjects]
    return conform(pd.DataFrame(rows), "dm")


def ex(*records):
    """records: (usubjid, start, end)."""
    rows = [{"STUDYID": STUDY, "DOMAIN": "EX", "USUBJID": u, "EXSEQ": float(i + 1), "EXTRT": "DRUG",
             "EXDOSE": 5.0, "EXSTDTC": s, "EXENDTC": e} for i, (u, s, e) in enumerate(records)]
    return conform(pd.DataFrame(rows), "ex")


def rs_totals(*records):
    """records: (usubjid, visitnum, date, total)."""
    rows = [{"STUDYID": STUDY, "DOMAIN": "RS", "USUBJID": u, "RSSEQ": float(i + 1), "RSTESTCD": "SALTTOT",
             "RSSTRESN": v, "RSDTC": d, "VISITNUM": float(n), "VISIT": f"V{n}", "RSSTRESU": "%"}
            for i, (u, n, d, v) in enumerate(records)]
    return conform(pd.DataFrame(rows), "rs")


def rs_regions(usubjid, visitnum, date, top, back, right, left):
    rows = [{"STUDYID": STUDY, "DOMAIN": "RS", "USUBJID": usubjid, "RSSEQ": float(i + 1), "RSTESTCD": code,
             "RSSTRESN": v, "RSDTC": date, "VISITNUM": float(visitnum), "VISIT": f"V{visitnum}", "RSSTRESU": "%"}
            for i, (code, v) in enumerate(zip(["SALT01", "SALT02", "SALT03", "SALT04"], [top, back, right, left]))]
    return conform(pd.DataFrame(rows), "rs")


def empty(domain):
    from regrowth.model import empty_domain

    return empty_domain(domain)


ENDPOINTS = [
    {"name": "SALT50", "variable": "PCHG", "operator": "<=", "value": -50},
    {"name": "SALTLE20", "variable": "AVAL", "operator": "<=", "value": 20},
]
