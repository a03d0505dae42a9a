"""Contracts of the analysis tables: each check fails on a hand-built table that breaks it, and a
valid table (and what run_trial derives from the bundled trials) passes."""

import numpy as np
import pandas as pd
import polars as pl
import pytest

from regrowth.derive.contracts import SPECS, adtte_paramcds, check_contract
from regrowth.errors import ContractError

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEXT = "str"


def text(*values):
    return pd.Series(list(values), dtype=TEXT)


def dates(*values):
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[s]")


def numbers(*values):
    return pd.Series(list(values), dtype="float64")


def adsl():
    """Two subjects, both treated and in the FAS."""
    return pd.DataFrame({
        "STUDYID": text("S1", "S1"), "USUBJID": text("S1-001", "S1-002"),
        "ARM": text("Drug", "Drug"), "ACTARM": text("Drug", "Drug"),
        "TRT01P": text("Drug", "Drug"), "TRT01A": text("Drug", "Drug"),
        "TRTSDT": dates("2015-01-01", "2015-01-05"), "TRTEDT": dates("2015-03-26", "2015-03-30"),
        "TRTSDTF": text(None, None), "TRTEDTF": text(None, "D"),
        "TRTDURD": numbers(85.0, 85.0),
        "SAFFL": text("Y", "Y"), "ITTFL": text("Y", "Y"), "FASFL": text("Y", "Y"),
        "EOSSTT": text("COMPLETED", "DISCONTINUED"), "DCSREAS": text(None, "ADVERSE EVENT"),
        "EOSDT": dates("2015-06-30", "2015-04-01"), "AATYPE": text("PATCHY", "AT"),
        "DURDIS": numbers(3.2, 10.0), "SALTBL": numbers(60.0, 100.0),
    })


def adsalt():
    """Subject 001's total SALT at baseline, week 12 (end of treatment) and week 24, and one region
    at baseline; subject 002's total at baseline only (rows in ADSALT's order)."""
    n = 5
    return pd.DataFrame({
        "STUDYID": text(*["S1"] * n),
        "USUBJID": text("S1-001", "S1-001", "S1-001", "S1-001", "S1-002"),
        "TRT01P": text(*["Drug"] * n), "TRT01A": text(*["Drug"] * n), "AATYPE": text(*["PATCHY"] * 4, "AT"),
        "PARAMCD": text("SALT", "SALT", "SALT", "SALT01", "SALT"),
        "PARAM": text(*["SALT Total Score (%)"] * 3, "Top (%)", "SALT Total Score (%)"),
        "VISIT": text("V1", "V2", "V3", "V1", "V1"), "VISITNUM": numbers(1, 2, 3, 1, 1),
        "ADT": dates("2015-01-01", "2015-03-26", "2015-06-18", "2015-01-01", "2015-01-05"),
        "ADY": numbers(1, 85, 169, 1, 1), "AVISIT": text("Baseline", "Week 12", "Week 24", "Baseline", "Baseline"),
        "AVISITN": numbers(0, 12, 24, 0, 0),
        "APHASE": text("PRE-TREATMENT", "ON TREATMENT", "OFF DRUG", "PRE-TREATMENT", "PRE-TREATMENT"),
        "AVAL": numbers(60, 10, 40, 80, 100), "DTYPE": text(*[None] * n),
        "ABLFL": text("Y", None, None, "Y", "Y"),
        "BASE": numbers(60, 60, 60, 80, 100), "CHG": numbers(0, -50, -20, 0, 0),
        "PCHG": numbers(0, -83.33, -33.33, 0, 0),
        "ANL01FL": text("Y", "Y", "Y", "Y", "Y"), "EOTFL": text(None, "Y", None, None, None),
        "CRIT1": text("SALT50: PCHG <= -50", "SALT50: PCHG <= -50", "SALT50: PCHG <= -50", None,
                      "SALT50: PCHG <= -50"),
        "CRIT1FL": text("N", "Y", "N", None, "N"),
    })


def adtte():
    return pd.DataFrame({
        "STUDYID": text("S1", "S1", "S1"), "USUBJID": text("S1-001", "S1-001", "S1-002"),
        "TRT01P": text("Drug", "Drug", "Drug"), "TRT01A": text("Drug", "Drug", "Drug"),
        "AATYPE": text("PATCHY", "PATCHY", "AT"), "PARAMCD": text("TTRELAPS", "TTSALT50", "TTSALT50"),
        "PARAM": text("Time to relapse", "Time to SALT50", "Time to SALT50"),
        "STARTDT": dates("2015-03-26", "2015-01-01", "2015-01-05"),
        "ADT": dates("2015-06-18", "2015-03-26", "2015-01-05"), "AVAL": numbers(84, 85, 1),
        "AVALU": text("DAYS", "DAYS", "DAYS"), "CNSR": numbers(0, 0, 2),
        "EVNTDESC": text("RELAPSE", "SALT50 RESPONSE", None),
        "CNSDTDSC": text(None, None, "NO POST-BASELINE ASSESSMENT"),
    })


def adae():
    return pd.DataFrame({
        "STUDYID": text("S1", "S1", "S1"), "USUBJID": text("S1-001", "S1-001", "S1-002"),
        "AESEQ": numbers(1, 2, 1), "TRTA": text("Drug", "Drug", "Drug"), "TRT01P": text("Drug", "Drug", "Drug"),
        "TRT01A": text("Drug", "Drug", "Drug"), "SAFFL": text("Y", "Y", "Y"),
        "AETERM": text("acne", "acne", "headache"), "AEDECOD": text("Acne", "Acne", "Headache"),
        "AEBODSYS": text("Skin", "Skin", "Nervous"), "AESEV": text("MILD", "MILD", "MODERATE"),
        "AESER": text("N", "N", "N"), "AEREL": text("POSSIBLE", "POSSIBLE", "NONE"),
        "AESTDTC": text("2015-02", "2015-02-10", "2014-12-01"), "AEENDTC": text(None, None, "2014-12-03"),
        "ASTDT": dates("2015-02-01", "2015-02-10", "2014-12-01"), "ASTDTF": text("D", None, None),
        "AENDT": dates(None, None, "2014-12-03"), "AENDTF": text(None, None, None),
        "ASTDY": numbers(32, 41, -35), "TRTEMFL": text("Y", "Y", None),
        "AOCCFL": text("Y", None, None), "AOCCSFL": text("Y", None, None), "AOCCPFL": text("Y", None, None),
    })


BUILD = {"adsl": adsl, "adsalt": adsalt, "adtte": adtte, "adae": adae}


def as_polars(df):
    return pl.from_pandas(df)


def check(df, table, **kw):
    if table != "adsl":
        kw.setdefault("adsl", adsl())
    if table == "adtte":
        kw.setdefault("paramcds", adtte_paramcds("SALT50"))
    return check_contract(df, table, **kw)


def broken(df, table, *fragments, **kw):
    """The ContractError message, asserted to name the table and each fragment."""
    with pytest.raises(ContractError) as err:
        check(df, table, **kw)
    message = str(err.value)
    assert message.startswith(f"{table.upper()} breaks its contract")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


@pytest.mark.parametrize("table", list(BUILD))
def test_valid_tables_pass_unchanged(table):
    df = BUILD[table]()
    assert check(df, table) is df


@pytest.mark.parametrize("table", list(BUILD))
def test_unknown_columns_are_allowed(table):
    df = BUILD[table]().assign(EXTRA=1, SPONSOR=text(*["x"] * len(BUILD[table]())))
    check(df, table)


@pytest.mark.parametrize("table", list(BUILD))
def test_zero_rows_pass(table):
    check(BUILD[table]().iloc[0:0], table)


@pytest.mark.parametrize("table", list(BUILD))
def test_each_required_column(table):
    required = [name for name, var in SPECS[table].columns.items() if var.required]
    for name in required:
        broken(BUILD[table]().drop(columns=[name]), table, f"required column {name} is missing")


# ---- types ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("table,column", [("adsl", "TRT01P"), ("adsalt", "PARAMCD"), ("adtte", "EVNTDESC"),
                                          ("adae", "AEDECOD")])
def test_text_must_be_string_or_categorical(table, column):
    df = as_polars(BUILD[table]())
    check(df.with_columns(pl.col(column).cast(pl.Categorical)), table)
    broken(df.with_columns(pl.col(column).cast(pl.Binary)), table,
           f"column {column}: type text (String or Categorical), found Binary")


@pytest.mark.parametrize("table,column", [("adsl", "TRTDURD"), ("adsalt", "AVAL"), ("adtte", "CNSR"),
                                          ("adae", "AESEQ")])
def test_numbers_must_be_float64(table, column):
    df = BUILD[table]()
    df[column] = df[column].astype("int64")
    broken(df, table, f"column {column}: type Float64, found Int64")


@pytest.mark.parametrize("table,column", [("adsl", "TRTSDT"), ("adsalt", "ADT"), ("adtte", "STARTDT"),
                                          ("adae", "ASTDT")])
def test_dates_must_be_datetime64(table, column):
    df = BUILD[table]()
    df[column] = df[column].dt.strftime("%Y-%m-%d").astype(TEXT)
    broken(df, table, f"column {column}: type date (Datetime or Date), found String")


def test_a_date_of_another_unit_is_a_date():
    df = adsl()
    df["TRTSDT"] = df["TRTSDT"].astype("datetime64[ns]")
    check(df, "adsl")


# ---- keys ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("table,row,column,value,key", [
    ("adsl", 1, "USUBJID", "S1-001", "unique key USUBJID"),
    ("adsalt", 2, "VISITNUM", 2.0, "unique key USUBJID+PARAMCD+VISITNUM"),
    ("adtte", 1, "PARAMCD", "TTRELAPS", "unique key USUBJID+PARAMCD"),
    ("adae", 1, "AESEQ", 1.0, "unique key USUBJID+AESEQ"),
])
def test_duplicate_keys(table, row, column, value, key):
    df = BUILD[table]()
    df.loc[row, column] = value
    if table == "adsalt":
        df.loc[row, ["ANL01FL", "AVISITN"]] = [None, np.nan]  # only the key is broken
    message = broken(df, table, f"check '{key}': 2 record(s) fail", "USUBJID='S1-001'")
    if table == "adae":
        assert "USUBJID='S1-001', AESEQ=1.0; USUBJID='S1-001', AESEQ=1.0" in message


def test_duplicate_key_out_of_order_is_found():
    df = adsalt()
    df.loc[3, "PARAMCD"] = "SALT"  # the region record becomes a second total at visit 1, after visit 3
    df.loc[3, "ABLFL"] = None
    df.loc[3, "ANL01FL"] = None
    broken(df, "adsalt", "check 'unique key USUBJID+PARAMCD+VISITNUM': 2 record(s) fail",
           "USUBJID='S1-001', PARAMCD='SALT', VISITNUM=1.0")


def test_missing_key_values_equal_each_other():
    df = adsalt()
    df.loc[[1, 2], "VISITNUM"] = np.nan
    broken(df, "adsalt", "check 'unique key USUBJID+PARAMCD+VISITNUM': 2 record(s) fail")


@pytest.mark.parametrize("table", list(BUILD))
def test_usubjid_never_null(table):
    df = BUILD[table]()
    df.loc[0, "USUBJID"] = None
    broken(df, table, "column USUBJID, check 'not null'")


# ---- flags and controlled values -------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["SAFFL", "ITTFL", "FASFL"])
def test_population_flags_y_or_n_never_null(flag):
    df = adsl()
    df.loc[1, flag] = "y"
    broken(df, "adsl", f"column {flag}, check 'values in {{Y, N}}': 1 record(s) fail; first: USUBJID='S1-002'")
    df.loc[1, flag] = None
    broken(df, "adsl", f"column {flag}, check 'not null'", "USUBJID='S1-002'")
    df.loc[1, flag] = "N"
    check(df, "adsl")


def test_eosstt_values():
    df = adsl()
    df.loc[0, "EOSSTT"] = "DONE"
    broken(df, "adsl", "column EOSSTT, check 'values in {COMPLETED, DISCONTINUED, ONGOING}'",
           "USUBJID='S1-001'", "EOSSTT='DONE'")
    df.loc[0, "EOSSTT"] = None
    broken(df, "adsl", "column EOSSTT, check 'not null'")
    df.loc[0, "EOSSTT"] = "ONGOING"
    check(df, "adsl")


@pytest.mark.parametrize("table,flag", [("adsalt", "ABLFL"), ("adsalt", "ANL01FL"), ("adsalt", "EOTFL"),
                                        ("adae", "TRTEMFL"), ("adae", "AOCCFL"), ("adae", "AOCCSFL"),
                                        ("adae", "AOCCPFL")])
def test_y_or_null_flags(table, flag):
    # derived as 'Y' or null (never 'N'): an 'N' is a derivation that changed without its readers
    df = BUILD[table]()
    df.loc[2, flag] = "N"
    broken(df, table, f"column {flag}, check 'values in {{Y}}': 1 record(s) fail", f"{flag}='N'")
    df.loc[2, flag] = None
    check(df, table)


def test_crit_flags_y_n_or_null():
    df = adsalt()
    df.loc[0, "CRIT1FL"] = "YES"
    broken(df, "adsalt", "column CRIT1FL, check 'values in {Y, N}'", "CRIT1FL='YES'")
    df.loc[0, "CRIT1FL"] = None
    check(df, "adsalt")


def test_every_crit_flag_column_is_checked():
    df = adsalt().assign(CRIT2=text(*["SALT75"] * 5), CRIT2FL=text("N", "N", "Q", None, "N"))
    broken(df, "adsalt", "column CRIT2FL, check 'values in {Y, N}': 1 record(s) fail", "VISITNUM=3.0")


def test_date_imputation_flags():
    df = adae()
    df.loc[1, "ASTDTF"] = "X"
    broken(df, "adae", "column ASTDTF, check 'values in {D, M, Y}'", "AESEQ=2.0")


def test_aphase_in_phases():
    df = adsalt()
    df.loc[2, "APHASE"] = "FOLLOW-UP"
    broken(df, "adsalt", "column APHASE, check 'values in {PRE-TREATMENT, ON TREATMENT, OFF DRUG}'",
           "USUBJID='S1-001', PARAMCD='SALT', VISITNUM=3.0, APHASE='FOLLOW-UP'")
    df.loc[2, "APHASE"] = None  # no date: no phase
    check(df, "adsalt")


def test_adsalt_paramcd_known():
    df = adsalt()
    df.loc[3, "PARAMCD"] = "SALT05"
    broken(df, "adsalt", "column PARAMCD, check 'values in {SALT01, SALT02, SALT03, SALT04, SALT}'",
           "PARAMCD='SALT05'")


def test_adtte_paramcd_known():
    df = adtte()
    df.loc[[1, 2], "PARAMCD"] = "TTSALT75"
    broken(df, "adtte", "column PARAMCD, check 'values in {TTSALT50, TTRELAPS}': 2 record(s) fail",
           "PARAMCD='TTSALT75'")
    check(df, "adtte", paramcds=adtte_paramcds("SALT75"))  # the responder endpoint is configured


def test_adtte_paramcd_of_a_long_endpoint_name():
    assert adtte_paramcds("SALT<=20") == ("TTSALT<=", "TTRELAPS")  # as derive_param_ttresp cuts it


# ---- ADTTE values --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [-1.0, 0.5])
def test_cnsr_non_negative_integer(value):
    df = adtte()
    df.loc[2, "CNSR"] = value
    broken(df, "adtte", "column CNSR, check 'a non-negative integer (0 event, > 0 censored)': 1 record(s) fail",
           "USUBJID='S1-002', PARAMCD='TTSALT50'")


def test_cnsr_never_null():
    df = adtte()
    df.loc[2, "CNSR"] = np.nan
    broken(df, "adtte", "column CNSR, check 'not null'")


def test_aval_non_negative_where_present():
    df = adtte()
    df.loc[0, "AVAL"] = -3.0
    broken(df, "adtte", "column AVAL, check '>= 0 (days from STARTDT)': 1 record(s) fail",
           "PARAMCD='TTRELAPS', AVAL=-3.0")
    df.loc[0, "AVAL"] = np.nan
    check(df, "adtte")
    df.loc[0, "AVAL"] = 0.0  # relapse censored at the last dose
    check(df, "adtte")


# ---- one record per group --------------------------------------------------------------------------

def test_one_baseline_per_subject_and_parameter():
    df = adsalt()
    df.loc[1, "ABLFL"] = "Y"
    broken(df, "adsalt", "column ABLFL, check 'at most one ABLFL = 'Y' per USUBJID+PARAMCD': 2 record(s) fail",
           "USUBJID='S1-001', PARAMCD='SALT', VISITNUM=1.0", "USUBJID='S1-001', PARAMCD='SALT', VISITNUM=2.0")


def test_no_baseline_is_allowed():
    # a subject without a value on or before first dose has no baseline record (BASE is null)
    df = adsalt()
    df.loc[4, "ABLFL"] = None
    check(df, "adsalt")


def test_at_most_one_end_of_treatment_record():
    df = adsalt()
    df.loc[2, "EOTFL"] = "Y"
    broken(df, "adsalt", "column EOTFL, check 'at most one EOTFL = 'Y' per USUBJID+PARAMCD': 2 record(s) fail",
           "VISITNUM=2.0", "VISITNUM=3.0")


def test_at_most_one_analysed_record_per_visit():
    df = adsalt()
    df.loc[2, "AVISITN"] = 12.0  # two analysed records in week 12
    broken(df, "adsalt",
           "column ANL01FL, check 'at most one ANL01FL = 'Y' per USUBJID+PARAMCD+AVISITN': 2 record(s) fail",
           "VISITNUM=2.0", "VISITNUM=3.0")
    df.loc[2, "ANL01FL"] = None  # the other one not analysed: fine
    check(df, "adsalt")


def test_flags_of_other_subjects_or_parameters_do_not_collide():
    df = adsalt()
    assert (df["ABLFL"] == "Y").sum() == 3 and (df["ANL01FL"] == "Y").sum() == 5  # same visit, other groups
    check(df, "adsalt")


# ---- across tables -----------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["adsalt", "adtte", "adae"])
def test_every_subject_is_in_adsl(table):
    df = BUILD[table]()
    df.loc[len(df) - 1, "USUBJID"] = "S1-099"
    message = broken(df, table, "column USUBJID, check 'USUBJID in ADSL': 1 record(s) fail; first: USUBJID='S1-099'")
    assert message.count("S1-099") == 1
    check_contract(df, table, **({"paramcds": adtte_paramcds("SALT50")} if table == "adtte" else {}))  # no ADSL


def test_every_failure_is_listed_with_the_file():
    df = adsalt()
    df.loc[1, "ABLFL"] = "Y"
    df.loc[2, "APHASE"] = "X"
    df["AVAL"] = df["AVAL"].astype(TEXT)
    df.loc[4, "USUBJID"] = "S1-099"
    message = broken(df, "adsalt", "(writing results/T1/adam/adsalt.parquet)", "bug in the derivation of ADSALT",
                     "Report it with this message", "column ABLFL", "column APHASE", "column AVAL",
                     "column USUBJID, check 'USUBJID in ADSL'", where="results/T1/adam/adsalt.parquet")
    assert len(message.splitlines()) == 5  # the heading and one line per failed check


def test_first_keys_are_at_most_three():
    df = adsl()
    df = pd.concat([df] * 3, ignore_index=True)
    df["USUBJID"] = text(*[f"S1-{i:03d}" for i in range(6)])
    df["SAFFL"] = text(*["X"] * 6)
    message = broken(df, "adsl", "6 record(s) fail", "S1-000", "S1-002")
    assert "S1-003" not in message


def test_unknown_table():
    with pytest.raises(ValueError, match="no contract"):
        check_contract(adsl(), "adxx")


# ---- the derived tables --------------------------------------------------------------------------

TRIALS = [("NCT02197455", "sdtm-xpt", 12), ("NCT01950780", "redcap", 24), ("NCT03570749", "dataset-json", 36)]


@pytest.mark.parametrize("trial,fmt,eot_week", TRIALS)
def test_bundled_trials_derive_tables_that_keep_their_contracts(trial, fmt, eot_week):
    from regrowth.trial import run_trial

    run = run_trial(ROOT / "resources" / "trials" / trial, fmt, eot_week=eot_week)  # checks as it derives
    a = run.adam
    assert len(a["adsl"]) and len(a["adsalt"]) and len(a["adtte"]) and len(a["adae"])
    check(a["adsl"], "adsl")
    check(a["adsalt"], "adsalt", adsl=a["adsl"])
    check(a["adtte"], "adtte", adsl=a["adsl"])
    check(a["adae"], "adae", adsl=a["adsl"])


def test_a_partition_stops_at_the_table_that_breaks_its_contract(monkeypatch):
    """derive_analysis_tables (partitions and run_trial) checks each table before writing it."""
    import regrowth.derive.pipeline as derive
    import regrowth.derive.adae as adae_module
    from regrowth.trial import check_trial, definitions_with_defaults

    defs = definitions_with_defaults()
    settings = derive.Settings(policy="strict", window_days=defs["visit_window_days"], endpoints=defs["endpoints"],
                                grid_weeks=defs["visit_grid_weeks"], eot_week=12, relapse=defs["relapse"],
                                teae_window_days=defs["teae_window_days"])
    tables = check_trial(ROOT / "resources" / "trials" / "NCT02197455", "sdtm-xpt", policy="strict").gated.tables
    real = adae_module.derive_adae

    def duplicating(*args, **kwargs):  # a derivation bug: the first AE twice
        out = real(*args, **kwargs)
        return pl.concat([out.head(1), out])

    monkeypatch.setattr(adae_module, "derive_adae", duplicating)
    written = []
    with pytest.raises(ContractError, match=r"(?s)ADAE breaks its contract .*unique key USUBJID\+AESEQ"):
        derive.derive_analysis_tables(dict(tables), settings, lambda name, table: written.append(name))
    assert written == ["adsl"]  # ADSL passed and was written; ADAE was not, nor anything after it


@pytest.mark.parametrize("column", ["CNSR", "AVAL"])
def test_a_number_column_as_text_is_a_type_failure_not_a_crash(column):
    df = adtte()
    df[column] = df[column].astype(TEXT)
    broken(df, "adtte", f"column {column}: type Float64, found String")


def test_flags_of_another_type_are_reported_with_their_values():
    df = adsalt()
    df.loc[2, "ABLFL"] = "N"
    df = as_polars(df).with_columns(pl.col("ABLFL").cast(pl.Binary))
    broken(df, "adsalt", "column ABLFL: type text (String or Categorical), found Binary",
           "column ABLFL, check 'values in {Y}': 1 record(s) fail")


def test_a_duplicate_in_a_table_out_of_key_order_is_found():
    # the same subject, parameter and visit in rows 0 and 2, another parameter between them: the
    # visit rises within each run of equal neighbours, but the runs are not the groups
    df = adsalt().iloc[[0, 3, 1]].reset_index(drop=True)
    df.loc[2, ["VISITNUM", "AVISITN", "ANL01FL"]] = [1.0, np.nan, None]
    broken(df, "adsalt", "check 'unique key USUBJID+PARAMCD+VISITNUM': 2 record(s) fail")
    df.loc[2, "VISITNUM"] = 2.0
    check(df, "adsalt")


def test_the_cdisc_pilot_derives_tables_that_keep_their_contracts(shared_dir):
    """Real SDTM (partial dates, screen failures, ARM/ACTARM differences, no SALT)."""
    from regrowth.trial import run_trial

    run = run_trial(shared_dir / "data" / "cdiscpilot01", "sdtm-xpt", policy="quarantine")
    a = run.adam
    assert len(a["adsl"]) > 200 and len(a["adae"]) > 1000
    assert (a["adsl"]["SAFFL"] == "N").any() and a["adae"]["ASTDTF"].notna().any()  # the cases worth checking
    check(a["adae"], "adae", adsl=a["adsl"])
    check(a["adsalt"], "adsalt", adsl=a["adsl"])
    check(a["adtte"], "adtte", adsl=a["adsl"])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [pl.String, pl.Categorical])
def test_value_check_is_the_plain_is_in(seed, dtype):
    """The flags' check looks at the distinct values first, row by row only when one is outside:
    the same rows fail as a plain is_in would find."""
    rng = np.random.default_rng(seed)
    pool = ["Y", "N", "Y", "N", "", "YY", "y", "NY", "é", "Z"]
    weights = None if seed % 2 else [30, 30, 30, 30, 0, 0, 0, 0, 0, 1]  # valid but one, or anything
    p = None if weights is None else np.array(weights) / sum(weights)
    values = [pool[i] for i in rng.choice(len(pool), 400, p=p)]
    df = adsl().iloc[[0] * 400].reset_index(drop=True)
    df["USUBJID"] = text(*[f"S1-{i:03d}" for i in range(400)])
    frame = as_polars(df).with_columns(pl.Series("SAFFL", values, dtype=pl.String).cast(dtype))
    expected = [i for i, v in enumerate(values) if v not in ("Y", "N")]
    if not expected:
        check(frame, "adsl")
        return
    message = broken(frame, "adsl", f"column SAFFL, check 'values in {{Y, N}}': {len(expected)} record(s) fail")
    assert f"USUBJID='S1-{expected[0]:03d}'" in message
