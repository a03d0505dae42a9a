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


# --- a small export for partitioned runs ------------------------------------------------------

PARTITION_SHEET_HEADER = "trial_id\tformat\tpath\tlabel\tdrug\teot_week\tdata_cut\tpolicy\tpartitions\n"


def partition_sheet_row(trial_id: str, export, partitions: int, fmt: str = "sdtm-csv") -> str:
    return f"{trial_id}\t{fmt}\t{export}\tMessy\ttofacitinib\t12\t2016-03-08\tquarantine\t{partitions}\n"


def messy_partition_trial(folder, redcap_mapping) -> None:
    """A 40-subject export in `folder` with what partitioning must carry across parts: a value
    that is not a number, orphan and subject-less rows, non-SALT QS records, SUPPAE with and
    without a parent."""
    from regrowth.simulate.__main__ import write_trials

    write_trials(folder.parent, 1, 40, "sdtm-csv", seed=5, drug="tofacitinib", redcap_mapping=redcap_mapping)
    rs = pd.read_csv(folder / "rs.csv", dtype=str, keep_default_na=False)
    rs.loc[17, "RSSTRESN"] = "n/a"
    rs.to_csv(folder / "rs.csv", index=False, lineterminator="\n")
    ae = pd.read_csv(folder / "ae.csv", dtype=str, keep_default_na=False)
    subject, seq = ae.loc[3, "USUBJID"], ae.loc[3, "AESEQ"]
    orphan = ae.iloc[[0]].assign(USUBJID="SIM001-77-001")
    nobody = ae.iloc[[1]].assign(USUBJID="")
    pd.concat([ae, orphan, nobody]).to_csv(folder / "ae.csv", index=False, lineterminator="\n")
    dm = pd.read_csv(folder / "dm.csv", dtype=str, keep_default_na=False)
    last = dm["USUBJID"].iloc[-1]
    (folder / "qs.csv").write_text(
        "STUDYID,DOMAIN,USUBJID,QSSEQ,QSCAT,QSTESTCD,QSTEST,QSORRES,QSSTRESC,QSSTRESN,VISITNUM,VISIT,QSDTC\n"
        f"SIM001,QS,{last},1,DLQI,DLQI01,Itch,2,2,2,2,BASELINE,2014-09-01\n"
        f"SIM001,QS,{dm['USUBJID'].iloc[0]},1,DLQI,DLQI01,Itch,1,1,1,2,BASELINE,2014-09-01\n", encoding="utf-8")
    (folder / "suppae.csv").write_text(
        "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\n"
        f"SIM001,AE,{subject},AESEQ,{seq},AETRTEM,Treatment emergent,Y\n"
        f"SIM001,AE,{last},AESEQ,999,AETRTEM,Treatment emergent,Y\n", encoding="utf-8")
