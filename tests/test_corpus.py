"""Every malformed export of the corpus gets its specific rule or error, and no row is lost."""

import json

import pandas as pd
import pyreadstat
import pytest

from regrowth.errors import InputError
from regrowth.trial import check_trial
from regrowth.validate.rules import RULES
from tests.corpus.cases import CASES, Case

FORMATS = ["sdtm-csv", "sdtm-xpt", "dataset-json", "redcap"]


def independent_row_count(path) -> int | None:
    """Data rows in an export file, counted without the package's readers."""
    if path.suffix == ".csv":
        data = path.read_bytes()
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("latin-1")
        return sum(1 for line in text.splitlines()[1:] if line.strip())  # no quoted newlines in the corpus
    if path.suffix == ".xpt":
        return len(pyreadstat.read_xport(str(path))[0])  # XPORT headers hold no row count
    if path.suffix == ".json":
        return len(json.loads(path.read_text())["rows"])
    if path.suffix == ".ndjson":
        return sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
    return None


def assert_every_row_accounted(checked, folder):
    acc = checked.gated.accounting
    assert len(acc) > 0
    assert (acc["rows_in"] == acc["rows_accepted"] + acc["rows_quarantined"]).all(), acc
    for rec in acc.to_dict("records"):
        assert rec["rows_in"] == independent_row_count(folder / rec["file"]), rec


def test_corpus_is_large_and_covers_every_format():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)
    assert {c.fmt for c in CASES} == set(FORMATS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, tmp_path):
    folder = case.write(tmp_path / case.name)
    kind, what = case.expect
    if kind == "error":
        with pytest.raises(InputError) as exc:
            check_trial(folder, case.fmt)
        message = str(exc.value)
        assert what in message
        assert any(p.name in message for p in folder.iterdir()) or str(folder) in message  # names the file
        return
    try:
        checked = check_trial(folder, case.fmt, policy="quarantine")
    except Exception as exc:  # only the documented stop for errors no row carries
        from regrowth.errors import ValidationFailed

        assert isinstance(exc, ValidationFailed) and what in str(exc), exc
        return
    found = set(checked.issues["rule_id"])
    quarantined = {r for t in checked.gated.quarantine.values() if "QRULES" in t for q in t["QRULES"] for r in q.split(",")}
    assert what in found | quarantined, checked.issues
    assert_every_row_accounted(checked, folder)
    if RULES[what].severity == "error" and what not in ("RG0003",):
        assert checked.gated.accounting["rows_quarantined"].sum() > 0  # the failing rows were set aside


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_base_has_no_errors(fmt, tmp_path):
    """The negative fixture of every rule: the untouched base of each format."""
    folder = Case("base", fmt, ("rule", "")).write(tmp_path / fmt)
    checked = check_trial(folder, fmt, policy="strict")
    assert set(checked.issues["rule_id"]) == set(), checked.issues
    acc = checked.gated.accounting
    assert (acc["rows_quarantined"] == 0).all() and (acc["rows_in"] == acc["rows_accepted"]).all()


def test_every_rule_has_a_positive_fixture():
    covered = {c.expect[1] for c in CASES if c.expect[0] == "rule"} | {"RG0708"}  # RG0708: cascade test below
    assert set(RULES) - covered == set(), f"rules without a positive fixture: {sorted(set(RULES) - covered)}"


def test_quarantined_subject_takes_its_rows_along(tmp_path):
    case = next(c for c in CASES if c.name == "csv-sex-not-in-terminology")
    folder = case.write(tmp_path / "cascade")
    checked = check_trial(folder, "sdtm-csv", policy="quarantine")
    q = checked.gated.quarantine
    assert q["dm"]["USUBJID"].tolist() == ["T-1"] and q["dm"]["QRULES"].tolist() == ["RG0201"]
    assert set(q["ae"]["QRULES"]) == {"RG0708"} and set(q["ae"]["USUBJID"]) == {"T-1"}
    assert "T-1" not in set(checked.gated.tables["rs"]["USUBJID"])
    acc = checked.gated.accounting.set_index("file")
    assert acc.loc["dm.csv", "rows_quarantined"] == 1 and acc.loc["rs.csv", "rows_quarantined"] == 2


def test_strict_policy_stops_and_names_the_rule(tmp_path):
    from regrowth.errors import ValidationFailed

    case = next(c for c in CASES if c.name == "csv-salt-over-100")
    folder = case.write(tmp_path / "strict")
    with pytest.raises(ValidationFailed, match=r"RG0301 error\] RS \(file rs.csv, data row 2 \(line 3\), usubjid T-1"):
        check_trial(folder, "sdtm-csv", policy="strict")
