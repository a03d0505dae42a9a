"""The real CDISC pilot study (../shared/data/cdiscpilot01) through the whole workflow.

Expected figures are derived here by hand from the SDTM files with plain pandas, independently
of the package's derivation code, and each is explained where it is computed.
"""

import pandas as pd
import pyreadstat
import pytest

from regrowth.parquet_io import read_table
from tests.conftest import copy_workflow, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.shared]
TRIAL = "CDISCPILOT01"
TEAE_WINDOW_DAYS = 30  # config default


def xpt(shared, name):
    df, _ = pyreadstat.read_xport(str(shared / "data/cdiscpilot01" / f"{name}.xpt"))
    return df


PILOT_RESULTS = "results-pilot"  # the sheet pilot.tsv's own results folder


@pytest.fixture(scope="module")
def pilot(tmp_path_factory, shared_dir):
    work = copy_workflow(tmp_path_factory.mktemp("pilot"))
    sheet = work / "pilot.tsv"
    sheet.write_text(f"trial_id\tformat\tpath\tlabel\n{TRIAL}\tsdtm-xpt\t{shared_dir / 'data/cdiscpilot01'}\tCDISC pilot\n")
    snakemake(work, "--config", "trials=pilot.tsv", check=True)
    return work


def adam(work, name):
    return read_table(work / PILOT_RESULTS / TRIAL / "adam" / name)


def test_populations_and_arms(pilot, shared_dir):
    dm = xpt(shared_dir, "dm")
    ex = xpt(shared_dir, "ex")
    adsl = adam(pilot, "adsl")
    assert len(adsl) == len(dm) == 306
    # Treated = subjects with at least one EX record: 254 (306 screened minus 52 screen failures).
    treated = set(ex["USUBJID"])
    assert len(treated) == 254
    assert set(adsl.loc[adsl.SAFFL == "Y", "USUBJID"]) == treated
    # Planned arms from DM.ARM without 'Screen Failure': 86 placebo, 84 + 84 xanomeline.
    planned = dm.loc[dm.ARM != "Screen Failure", "ARM"].value_counts().to_dict()
    assert adsl["TRT01P"].value_counts().to_dict() == planned == {
        "Placebo": 86, "Xanomeline High Dose": 84, "Xanomeline Low Dose": 84}
    # Actual arms from ACTARM: the 12 planned high-dose subjects who got low dose move over.
    assert adsl.loc[adsl.SAFFL == "Y", "TRT01A"].value_counts().to_dict() == {
        "Placebo": 86, "Xanomeline Low Dose": 96, "Xanomeline High Dose": 72}


def test_treatment_dates_from_ex(pilot, shared_dir):
    ex = xpt(shared_dir, "ex")
    first = pd.to_datetime(ex.groupby("USUBJID")["EXSTDTC"].min())
    last = pd.to_datetime(ex.assign(end=ex["EXENDTC"].where(ex["EXENDTC"] != "", ex["EXSTDTC"]))
                          .groupby("USUBJID")["end"].max())
    adsl = adam(pilot, "adsl").set_index("USUBJID")
    treated = adsl[adsl.SAFFL == "Y"]
    assert (treated["TRTSDT"] == first.reindex(treated.index)).all()
    assert (treated["TRTEDT"] == last.reindex(treated.index)).all()
    assert (treated["TRTDURD"] == (treated["TRTEDT"] - treated["TRTSDT"]).dt.days + 1).all()


def _hand_teae(ae: pd.DataFrame, ex: pd.DataFrame) -> pd.Series:
    """Treatment emergence from the raw AE dates, rule by rule:
    - full date: on or after first dose and no later than last dose + 30 days;
    - 'YYYY-MM': the earliest date the AE can have is the 1st of the month, or the first dose
      if that falls in the same month (it cannot be shown to precede treatment); emergent if
      that date is within [first dose, last dose + 30];
    - 'YYYY': likewise with 1 January or the first dose in that year;
    - missing start: emergent (conservative).
    """
    first = pd.to_datetime(ex.groupby("USUBJID")["EXSTDTC"].min())
    last = pd.to_datetime(ex.assign(end=ex["EXENDTC"].where(ex["EXENDTC"] != "", ex["EXSTDTC"]))
                          .groupby("USUBJID")["end"].max())
    out = []
    for usubjid, dtc in zip(ae["USUBJID"], ae["AESTDTC"]):
        f, lst = first.get(usubjid), last.get(usubjid)
        if f is None or pd.isna(f):
            out.append(False)
            continue
        if dtc == "":
            out.append(True)
            continue
        if len(dtc) == 4:
            earliest = max(pd.Timestamp(f"{dtc}-01-01"), f) if f.year == int(dtc) else pd.Timestamp(f"{dtc}-01-01")
        elif len(dtc) == 7:
            start = pd.Timestamp(f"{dtc}-01")
            earliest = max(start, f) if (f.year, f.month) == (start.year, start.month) else start
        else:
            earliest = pd.Timestamp(dtc[:10])
        out.append(f <= earliest <= lst + pd.Timedelta(days=TEAE_WINDOW_DAYS))
    return pd.Series(out, index=ae.index)


def test_teae_with_partial_dates(pilot, shared_dir):
    ae, ex = xpt(shared_dir, "ae"), xpt(shared_dir, "ex")
    adae = adam(pilot, "adae")
    assert len(adae) == len(ae) == 1191
    # SOURCE.md: 1165 full start dates, 15 'YYYY-MM' (day imputed), 11 'YYYY' (month imputed)
    assert adae["ASTDTF"].value_counts().to_dict() == {"D": 15, "M": 11}
    expected = _hand_teae(ae, ex)
    got = adae.set_index(["USUBJID", "AESEQ"])["TRTEMFL"].eq("Y")
    key = pd.MultiIndex.from_frame(ae[["USUBJID", "AESEQ"]])
    assert got.reindex(key).to_numpy().tolist() == expected.tolist()
    assert int(expected.sum()) == int((adae.TRTEMFL == "Y").sum())


def test_teae_subject_counts_by_actual_arm(pilot, shared_dir):
    ae, ex, dm = xpt(shared_dir, "ae"), xpt(shared_dir, "ex"), xpt(shared_dir, "dm")
    te = ae[_hand_teae(ae, ex)]
    arm = dm.set_index("USUBJID")["ACTARM"]
    expected = te.assign(arm=te["USUBJID"].map(arm)).groupby("arm")["USUBJID"].nunique().to_dict()
    safety = read_table(pilot / PILOT_RESULTS / "tables/safety.parquet")
    got = safety[safety.soc == "ANY"].set_index("arm")["n_subjects"].to_dict()
    assert got == expected
    # one SOC row per arm with pt empty, and PT rows count each subject once
    from regrowth.summarize.tables import SUMMARY_SOCS

    pt_rows = safety[(safety.pt != "") & (safety.arm == "Placebo") & ~safety.soc.isin(SUMMARY_SOCS)]
    pbo = te[te["USUBJID"].map(arm) == "Placebo"]
    hand_pt = pbo.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].nunique()
    assert pt_rows.set_index(["soc", "pt"])["n_subjects"].sort_index().to_dict() == hand_pt.sort_index().to_dict()
    # the pilot's AEACN is blank on every record: not collected, so no discontinuation row (not 0)
    assert (ae["AEACN"].str.strip() == "").all()
    assert not (safety.soc == "LEADING TO DISCONTINUATION").any()
    # deaths, counted from the pilot's own DS (3 disposition events DEATH)
    ds = xpt(shared_dir, "ds")
    dead = set(ds.loc[(ds.DSCAT == "DISPOSITION EVENT") & (ds.DSDECOD == "DEATH"), "USUBJID"])
    dosed = set(ex["USUBJID"])
    hand_deaths = pd.Series([arm[u] for u in dead & dosed]).value_counts().to_dict()
    got_deaths = safety[safety.soc == "DEATHS"].set_index("arm")["n_subjects"]
    assert {a: int(n) for a, n in got_deaths.items() if n} == hand_deaths and sum(hand_deaths.values()) == len(dead) == 3


def test_disposition_counts_screen_failures(pilot, shared_dir):
    ds = xpt(shared_dir, "ds")
    disp = read_table(pilot / PILOT_RESULTS / "tables/disposition.parquet")
    screen = disp[disp.arm.str.startswith("Not assigned")]
    assert screen["n"].sum() == 52 == (ds.DSDECOD == "SCREEN FAILURE").sum()
    # every subject counted once: COMPLETED in DS disposition events = 110
    assert disp.loc[disp.status == "COMPLETED", "n"].sum() == (
        (ds.DSCAT == "DISPOSITION EVENT") & (ds.DSDECOD == "COMPLETED")).sum() == 110


def test_validates_without_errors_and_reports(pilot):
    issues = read_table(pilot / PILOT_RESULTS / TRIAL / "validation.parquet")
    assert (issues.severity == "error").sum() == 0
    text = (pilot / PILOT_RESULTS / "report.html").read_text()
    for arm in ("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"):
        assert arm in text
    assert "no SALT assessments in this trial" in text
    assert "Treatment duration (days)" in text and "Not assigned (screen failure)" in text
    assert "12 treated subject(s) received a treatment other than the one planned" in text
