import numpy as np
import pandas as pd
import polars as pl
import pytest

from regrowth.errors import ValidationFailed
from regrowth.ingest import ingest_trial
from regrowth.model import conform
from regrowth.validate import validate_trial
from regrowth.validate.gate import check_no_errors
from regrowth.validate.rules import RULES, catalogue_markdown
from tests.builders import dm, empty, ex, rs_regions, rs_totals


def tables(**override):
    base = {d: empty(d) for d in ("dm", "ex", "ds", "ae", "sv", "mh", "rs")}
    base["dm"] = dm("S1", "S2")
    base["ex"] = ex(("S1", "2020-01-01", "2020-02-01"), ("S2", "2020-01-01", "2020-02-01"))
    base["rs"] = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S2", 1, "2020-01-01", 70.0))
    base.update(override)
    return base


def rules_found(t):
    return set(validate_trial(t)["rule_id"])


def test_clean_tables_have_no_issues():
    assert rules_found(tables()) == set()


@pytest.mark.parametrize("domain,column,value,rule", [
    ("dm", "SEX", "X", "RG0201"),
    ("dm", "AGE", 130.0, "RG0302"),
    ("ex", "EXSTDTC", "01/02/2020", "RG0401"),
    ("ex", "EXDOSE", -1.0, "RG0303"),
    ("rs", "RSSTRESN", 101.0, "RG0301"),
    ("rs", "RSSTRESU", "cm", "RG0204"),
    ("dm", "USUBJID", None, "RG0002"),
])
def test_row_rules(domain, column, value, rule):
    t = tables()
    t[domain] = t[domain].copy()
    t[domain].loc[0, column] = value
    issues = validate_trial(t)
    hit = issues.filter(pl.col("rule_id") == rule)
    assert len(hit) >= 1, issues
    assert hit["severity"][0] == RULES[rule].severity


def test_missing_required_variable():
    t = tables(dm=dm("S1", "S2").drop(columns=["SEX"]))
    issues = validate_trial(t)
    hit = issues.filter(pl.col("rule_id") == "RG0001")
    assert hit["column"].to_list() == ["SEX"]


def test_duplicate_subject_and_seq():
    t = tables(dm=dm("S1", "S1"))
    assert "RG0501" in rules_found(t)
    t = tables(ex=ex(("S1", "2020-01-01", "2020-02-01"), ("S2", "2020-01-01", "2020-02-01")).assign(EXSEQ=1.0))
    assert "RG0502" not in rules_found(t)  # same SEQ, different subjects: fine
    t["ex"].loc[1, "USUBJID"] = "S1"
    assert "RG0502" in rules_found(t)


def test_cross_domain_orphan_and_baseline():
    t = tables(rs=rs_totals(("S1", 1, "2020-01-01", 60.0), ("S9", 1, "2020-01-01", 70.0)))
    issues = validate_trial(t)
    assert issues.filter(pl.col("rule_id") == "RG0701")["usubjid"].to_list() == ["S9"]
    assert issues.filter(pl.col("rule_id") == "RG0702")["usubjid"].to_list() == ["S2"]


def test_salt_total_consistency():
    rs = pd.concat([rs_regions("S1", 1, "2020-01-01", 50, 20, 10, 0), rs_totals(("S1", 1, "2020-01-01", 26.6))],
                   ignore_index=True)
    rs["RSSEQ"] = range(1, len(rs) + 1)
    rs["RSSEQ"] = rs["RSSEQ"].astype("float64")
    t = tables(rs=rs, dm=dm("S1"), ex=ex(("S1", "2020-01-01", "2020-02-01")))
    assert "RG0601" not in rules_found(t)
    t["rs"].loc[t["rs"]["RSTESTCD"] == "SALTTOT", "RSSTRESN"] = 30.0
    assert "RG0601" in rules_found(t)


def test_ae_end_before_start():
    ae = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "AE", "USUBJID": ["S1"], "AESEQ": [1.0], "AETERM": ["x"],
                               "AESTDTC": ["2020-02-01"], "AEENDTC": ["2020-01-01"]}), "ae")
    assert "RG0602" in rules_found(tables(ae=ae))


def test_no_subjects():
    assert "RG0003" in rules_found(tables(dm=empty("dm")))


def test_issue_names_file_row_subject(tmp_path):
    (tmp_path / "dm.csv").write_text("STUDYID,DOMAIN,USUBJID,SEX\nT,DM,T-1,F\nT,DM,T-2,Q\n")
    got = ingest_trial(tmp_path, "sdtm-csv")
    issue = validate_trial(got.tables, got.issues).row(0, named=True)
    assert (issue["rule_id"], issue["file"], issue["row"], issue["usubjid"], issue["column"], issue["value"]) == (
        "RG0201", "dm.csv", 2, "T-2", "SEX", "Q")


def test_gate_stops_on_errors_and_names_the_issue():
    issues = validate_trial(tables(dm=dm("S1", "S2").assign(SEX=["F", "X"])))
    with pytest.raises(ValidationFailed) as exc:
        check_no_errors(issues, "T1", "results/T1/validation.parquet")
    text = str(exc.value)
    assert "RG0201" in text and "S2" in text and "SEX" in text and "validation.parquet" in text


def test_gate_lets_warnings_pass():
    issues = validate_trial(tables(rs=rs_totals(("S1", 1, "2020-01-01", 60.0))))
    assert set(issues["severity"]) == {"warning"}
    check_no_errors(issues, "T1", "x")


def test_catalogue_is_complete_and_rendered():
    md = catalogue_markdown()
    for rule_id, rule in RULES.items():
        assert rule.severity in {"error", "warning", "notice"}
        assert f"| {rule_id} |" in md


def test_readme_shows_the_current_rule_catalogue():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("<!-- rule-catalogue:start -->")[1].split("<!-- rule-catalogue:end -->")[0]
    assert block.strip() == catalogue_markdown(), "README rule catalogue is stale: regenerate it"


def _salt_total_issues_by_pivot(rs):
    """The rule as first written (pandas pivot_table): the reference for the polars one, as
    (usubjid, row, value, message) of each issue."""
    from regrowth.issues import value_text
    from regrowth.model import SALT_WEIGHTS
    from regrowth.validate.rules import SALT_TOTAL_TOLERANCE

    salt = rs[rs["RSTESTCD"].isin(list(SALT_WEIGHTS) + ["SALTTOT"])]
    wide = salt.pivot_table(index=["USUBJID", "VISITNUM"], columns="RSTESTCD", values="RSSTRESN", aggfunc="first")
    if "SALTTOT" not in wide.columns or not set(SALT_WEIGHTS) <= set(wide.columns):
        return []
    computed = sum(wide[k] * w for k, w in SALT_WEIGHTS.items())
    bad = ((wide["SALTTOT"] - computed).abs() > SALT_TOTAL_TOLERANCE) & computed.notna() & wide["SALTTOT"].notna()
    bad &= ~((wide < 0) | (wide > 100)).any(axis=1)  # a score failing RG0301 is not summed as well
    totals = salt[salt["RSTESTCD"] == "SALTTOT"]
    rows = pd.Series(totals.index, index=pd.MultiIndex.from_frame(totals[["USUBJID", "VISITNUM"]]))
    rows = rows[~rows.index.duplicated()]
    return [(rs.at[rows[key], "USUBJID"], int(rs.at[rows[key], "SRCROW"]), value_text(wide.at[key, "SALTTOT"]),
             f"SALT total {value_text(wide.at[key, 'SALTTOT'])} but weighted regions give {computed[key]:.2f}")
            for key in bad[bad].index]


@pytest.mark.parametrize("seed", range(6))
def test_salt_total_rule_matches_the_pivot_table_reference(seed):
    from regrowth.validate import polars_tables
    from regrowth.validate.checks import Trial

    rng = np.random.default_rng(seed)
    parts = []
    for s in range(12):
        for v in range(1, 4):
            regions = [float(x) for x in rng.integers(0, 101, 4)]
            part = rs_regions(f"S{s:02d}", v, "2020-01-01", *regions)
            total = sum(w * x for w, x in zip([0.4, 0.24, 0.18, 0.18], regions))
            parts += [part, rs_totals((f"S{s:02d}", v, "2020-01-01", round(total + rng.choice([0, 0, 0.05, 3]), 1)))]
    rs = pd.concat(parts, ignore_index=True)
    n = len(rs)
    rs.loc[rng.random(n) < 0.08, "RSSTRESN"] = np.nan  # missing values
    rs.loc[rng.random(n) < 0.03, "USUBJID"] = None  # records without subject or visit
    rs.loc[rng.random(n) < 0.03, "VISITNUM"] = np.nan
    repeated = rs.sample(10, random_state=seed).assign(RSSTRESN=lambda d: d["RSSTRESN"] + 7)  # the first counts
    rs = pd.concat([rs, repeated], ignore_index=True)
    rs = rs.sample(frac=1, random_state=seed)  # any row order, any index
    rs["SRCFILE"], rs["SRCROW"] = "rs.csv", np.arange(len(rs), dtype="float64")
    rule = RULES["RG0601"]
    found = pl.concat(rule.check(rule, Trial(polars_tables({"rs": rs}))))
    got = sorted(found.select("usubjid", "row", "value", "message").rows())
    assert got == sorted(_salt_total_issues_by_pivot(rs))
    assert len(got) > 0


def _row_flags_by_scanning(tables, errors):
    """Quarantine flags as first written (one scan of a table per error): the reference."""
    from regrowth.model import DOMAINS

    flags = {d: [] for d in tables}
    by_name = {DOMAINS[d].name: d for d in tables}
    for rec in errors.to_dict("records"):
        for d in list(tables) if rec["dataset"] == "REDCAP" else [by_name.get(rec["dataset"])]:
            if d is not None:
                t = tables[d]
                hit = t.index[(t["SRCFILE"] == rec["file"]) & (t["SRCROW"] == float(rec["row"]))]
                flags[d] += [(i, rec["rule_id"], rec["message"]) for i in hit]
    return flags


@pytest.mark.parametrize("seed", range(4))
def test_quarantine_flags_match_scanning_each_table_per_error(seed):
    from regrowth.validate import polars_tables
    from regrowth.validate.gate import _row_flags

    rng = np.random.default_rng(seed)
    tables = {}
    for d, name in (("rs", "RS"), ("ae", "AE")):
        n = 400
        tables[d] = pd.DataFrame({"SRCFILE": rng.choice([f"{d}.csv", "records.csv"], n),
                                  "SRCROW": rng.integers(1, 150, n).astype("float64")})  # several records per row
    m = 120
    errors = pd.DataFrame({"rule_id": rng.choice(["RG0201", "RG0301", "RG0401"], m),
                           "dataset": rng.choice(["RS", "AE", "REDCAP", "DM"], m),
                           "file": rng.choice(["rs.csv", "ae.csv", "records.csv", "other.csv"], m),
                           "row": rng.integers(1, 150, m).astype("float64")})
    errors["message"] = [f"problem {k}" for k in range(m)]
    got, expected = _row_flags(polars_tables(tables), pl.from_pandas(errors)), _row_flags_by_scanning(tables, errors)
    for d in tables:
        assert len(expected[d]) > 0
        assert got[d].rows() == expected[d], d


def test_jobs_that_only_gate_or_combine_do_not_import_pandera():
    # pandera adds ~0.3 s to every such job's start; the schemas load when a check runs
    import subprocess
    import sys

    code = ("import sys; import regrowth.validate.gate, regrowth.collect, regrowth.validate;"
            "print('pandera' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- the registry ---------------------------------------------------------------------------------


def _raised_in(folder: str) -> dict[str, set[str]]:
    """Rule id -> severities stated where the sources under `folder` raise it."""
    import re
    from pathlib import Path

    found: dict[str, set[str]] = {}
    root = Path(__file__).resolve().parent.parent / "src" / "regrowth" / folder
    for path in root.glob("*.py"):
        text = path.read_text()
        for rule_id, severity in re.findall(r'_issue\("(RG\d{4})", "(error|warning|notice)"', text):
            found.setdefault(rule_id, set()).add(severity)
        for rule_id in re.findall(r'_issue\("(RG\d{4})", (?!"(?:error|warning|notice)")', text):  # read_issue: the registry's
            found.setdefault(rule_id, set())
        for rule_id, severity in re.findall(r'"rule_id": "(RG\d{4})",\s*"severity": "(\w+)"', text):
            found.setdefault(rule_id, set()).add(severity)
        for rule_id in re.findall(r'"rule_id": "(RG\d{4})", "reason"', text):  # unmapped rows
            found.setdefault(rule_id, set())
        for rule_id in re.findall(r'rule: str = "(RG\d{4})"', text):  # sdtm's notices
            found.setdefault(rule_id, set()).add("notice")
    return found


def test_rules_raised_by_ingest_are_declared_with_the_severity_ingest_gives():
    raised = _raised_in("ingest")
    assert {"RG0001", "RG0005", "RG0006", "RG0101", "RG0206", "RG0709"} <= set(raised)
    for rule_id, severities in raised.items():
        assert rule_id in RULES, rule_id
        assert severities <= {RULES[rule_id].severity}, (rule_id, severities)
        assert "ingest" in RULES[rule_id].raised_by, rule_id


def test_every_rule_has_a_check_or_is_raised_where_it_says():
    raised = _raised_in("ingest")
    for rule_id, rule in RULES.items():
        if rule.raised_by == "validation":
            assert rule.check is not None, rule_id
        if "ingest" in rule.raised_by:
            assert rule_id in raised, rule_id
    assert RULES["RG0708"].raised_by == "gate" and RULES["RG0708"].check is None


def test_ingest_issues_take_the_registry_severity_and_fix():
    from regrowth.issues import issues_frame

    # the registry decides the severity, whatever the raising code says
    ingest = issues_frame([{"rule_id": "RG0009", "severity": "notice", "dataset": "AE", "file": "ae.csv",
                            "column": "AESVE", "message": "AESVE looks like AESEV"}])
    issue = validate_trial(tables(), ingest).row(0, named=True)
    assert (issue["rule_id"], issue["severity"], issue["fix"]) == ("RG0009", "warning", RULES["RG0009"].fix)


# --- engines and types at the entrance --------------------------------------------------------------


def _messy_tables():
    t = tables()
    t["dm"] = dm("S1", "S2", "S2").assign(SEX=["F", "X", "M"], AGE=[40.0, 130.0, 41.0])
    t["ex"] = ex(("S1", "2020-01-01", "2019-12-01"), ("S2", "01/02/2020", "2020-02-01"), ("S9", "2020-01-01", None))
    t["rs"] = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-15", 101.0), ("S2", 1, "2020-02", 70.0))
    for name, frame in t.items():
        t[name] = frame.assign(SRCFILE=f"{name}.csv", SRCROW=np.arange(1.0, len(frame) + 1))
    return t


def test_pandas_polars_and_categorical_text_give_the_same_issues():
    from regrowth.validate import polars_tables

    t = _messy_tables()
    as_polars = polars_tables(t)
    categorical = {d: f.with_columns(pl.col(pl.String).cast(pl.Categorical)) for d, f in as_polars.items()}
    issues = validate_trial(t)
    assert {"RG0201", "RG0302", "RG0501", "RG0401", "RG0603", "RG0301", "RG0402", "RG0701"} <= set(issues["rule_id"])
    assert validate_trial(as_polars).equals(issues)
    assert validate_trial(categorical).equals(issues)


def test_quarantine_takes_the_subjects_rows_along_with_its_dm_record():
    from regrowth.validate.gate import apply_policy

    t = tables()
    t["dm"] = dm("S1", "S2").assign(SEX=["F", "X"])
    for name, frame in t.items():
        t[name] = frame.assign(SRCFILE=f"{name}.csv", SRCROW=np.arange(1.0, len(frame) + 1))
    files = pd.DataFrame({"file": [f"{d}.csv" for d in t], "format": "sdtm-csv", "rows_in": [len(f) for f in t.values()]})
    unmapped = pd.DataFrame({"SRCFILE": pd.Series([], dtype="str"), "SRCROW": pd.Series([], dtype="float64"),
                             "rule_id": pd.Series([], dtype="str"), "reason": pd.Series([], dtype="str")})
    links = pd.DataFrame({"SRCFILE": pd.Series([], dtype="str"), "SRCROW": pd.Series([], dtype="float64"),
                          "PARENTFILE": pd.Series([], dtype="str"), "PARENTROW": pd.Series([], dtype="float64")})
    issues = validate_trial(t)
    gated = apply_policy(t, issues, files, unmapped, links, policy="quarantine", trial_id="T1", issues_path="v.csv")
    assert gated.tables["dm"]["USUBJID"].to_list() == ["S1"]
    assert gated.quarantine["dm"].select("USUBJID", "QRULES").rows() == [("S2", "RG0201")]
    assert gated.quarantine["dm"]["QREASON"][0] == (
        "SEX is not in CDISC terminology (F, M, U, UNDIFFERENTIATED): SEX = 'X'")
    for d in ("ex", "rs"):
        assert gated.tables[d]["USUBJID"].to_list() == ["S1"]
        assert gated.quarantine[d].select("USUBJID", "QRULES", "QREASON").rows() == [
            ("S2", "RG0708", "the subject's DM record is quarantined")]
    acc = {r["file"]: (r["rows_in"], r["rows_accepted"], r["rows_quarantined"]) for r in gated.accounting.to_dicts()}
    assert acc == {"dm.csv": (2, 1, 1), "ex.csv": (2, 1, 1), "rs.csv": (2, 1, 1), "ds.csv": (0, 0, 0),
                   "ae.csv": (0, 0, 0), "sv.csv": (0, 0, 0), "mh.csv": (0, 0, 0)}


# --- accounting --------------------------------------------------------------------------------------


def _source(file_rows):
    return pl.DataFrame({"SRCFILE": [f for f, _ in file_rows], "SRCROW": [float(r) for _, r in file_rows]},
                        schema={"SRCFILE": pl.String, "SRCROW": pl.Float64})


def test_accounting_follows_every_source_row_and_merged_rows_their_parent():
    from regrowth.validate.gate import account

    files = pl.DataFrame({"file": ["a.csv", "suppae.csv", "dictionary.csv"],
                          "format": ["sdtm-csv", "sdtm-csv", "redcap-dictionary"], "rows_in": [4, 2, 9]})
    accepted = {"ae": _source([("a.csv", 1), ("a.csv", 2), ("a.csv", 2)])}  # row 2 feeds two records
    quarantine = {"ae": _source([("a.csv", 3), ("a.csv", 2)])}  # row 2 also feeds a quarantined one: accepted
    unmapped = _source([("a.csv", 4)])
    # SUPPAE row 1 hangs on AE row 1 (accepted), row 2 on AE row 3 (quarantined)
    links = pl.DataFrame({"SRCFILE": ["suppae.csv", "suppae.csv"], "SRCROW": [1.0, 2.0],
                          "PARENTFILE": ["a.csv", "a.csv"], "PARENTROW": [1.0, 3.0]})
    acc = account(files, accepted, quarantine, unmapped, links)
    assert acc.rows() == [("a.csv", 4, 2, 2), ("suppae.csv", 2, 1, 1)]
    assert acc.columns == ["file", "rows_in", "rows_accepted", "rows_quarantined"]


def test_a_source_row_without_a_fate_fails_loudly():
    from regrowth.errors import ContractError
    from regrowth.validate.gate import account

    files = pl.DataFrame({"file": ["a.csv"], "format": ["sdtm-csv"], "rows_in": [5]})
    empty = _source([])
    with pytest.raises(ContractError, match=r"a.csv: 2 source row\(s\) have no fate \(bug\): rows \[2, 5\]"):
        account(files, {"ae": _source([("a.csv", 1), ("a.csv", 3), ("a.csv", 4)])}, {"ae": empty}, empty,
                empty.with_columns(PARENTFILE=pl.col("SRCFILE"), PARENTROW=pl.col("SRCROW")))


def test_value_texts_show_numbers_as_the_export_has_them():
    from regrowth.issues import value_texts

    got = value_texts(pl.Series([130.0, 26.6, None, float("nan"), 1e-05, 0.1 + 0.2, -5.0]))
    assert got.to_list() == ["130", "26.6", None, None, "1e-05", "0.30000000000000004", "-5"]
    assert value_texts(pl.Series(["Q", None], dtype=pl.Categorical)).to_list() == ["Q", None]
