"""Property: whatever is done to a valid export, the pipeline either stops with a clear error
or accounts for every row (rows in = accepted + quarantined, per file). Never a crash."""

import csv
import io
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regrowth.errors import InputError, ValidationFailed
from regrowth.trial import check_trial
from tests.corpus.cases import base, write_table

DOMAINS = ["dm", "ex", "ds", "ae", "sv", "rs"]
ODD = ["", " ", "\x00", "\ufffd", "é", "\r", "\n", '"', ",", ";", "=SUM(A1)", "<script>", "9" * 30, "-1e308",
       "NaN", "2020-02-30", "2020", "Ø∆", "\t"]

mutation = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(DOMAINS), st.integers(0, 20)),
    st.tuples(st.just("rename"), st.sampled_from(DOMAINS), st.integers(0, 20), st.sampled_from(["X", "usubjid", ""])),
    st.tuples(st.just("retype"), st.sampled_from(DOMAINS), st.integers(0, 20), st.sampled_from(ODD)),
    st.tuples(st.just("blank"), st.sampled_from(DOMAINS), st.integers(0, 20), st.integers(0, 10)),
    st.tuples(st.just("swap_dates"), st.just("ae")),
    st.tuples(st.just("duplicate"), st.sampled_from(DOMAINS), st.integers(0, 10)),
    st.tuples(st.just("out_of_range"), st.sampled_from([("rs", "RSSTRESN"), ("dm", "AGE"), ("ex", "EXDOSE")]),
              st.sampled_from(["1000", "-5", "1e9"])),
    st.tuples(st.just("odd"), st.sampled_from(DOMAINS), st.integers(0, 20), st.integers(0, 10), st.sampled_from(ODD)),
)


def apply(tables, m):
    kind = m[0]
    if kind == "swap_dates":
        t = tables["ae"]
        if {"AESTDTC", "AEENDTC"} <= set(t.columns):
            t["AESTDTC"], t["AEENDTC"] = t["AEENDTC"].copy(), t["AESTDTC"].copy()
        return
    if kind == "out_of_range":
        (d, col), value = m[1], m[2]
        if col in tables[d].columns and len(tables[d]):
            tables[d].loc[0, col] = value
        return
    t = tables[m[1]]
    if t.empty or not len(t.columns):
        return
    col = t.columns[m[2] % len(t.columns)] if kind != "duplicate" else None
    if kind == "drop":
        tables[m[1]] = t.drop(columns=[col])
    elif kind == "rename":
        tables[m[1]] = t.rename(columns={col: m[3] or col + "_"})
    elif kind == "retype":
        t[col] = m[3]
    elif kind == "blank":
        t.loc[m[3] % len(t), col] = ""
    elif kind == "duplicate":
        tables[m[1]] = pd.concat([t, t.iloc[[m[2] % len(t)]]], ignore_index=True)
    elif kind == "odd":
        t.loc[m[3] % len(t), col] = str(t.loc[m[3] % len(t), col]) + m[4]


def rows_in_file(path) -> int:
    if path.suffix == ".json":
        return len(json.loads(path.read_text(encoding="utf-8"))["rows"])
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    delim = max([",", ";", "\t", "|"], key=lambda d: text.splitlines()[0].count(d) if text.strip() else 0)
    return sum(1 for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim) if r) - 1


# derandomize: CI sees the same examples every run (explore more locally with a higher
# max_examples and derandomize=False).
@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=4), fmt=st.sampled_from(["sdtm-csv", "dataset-json"]))
def test_mutated_exports_never_crash_and_lose_no_row(tmp_path_factory, mutations, fmt):
    tables = base()
    for m in mutations:
        apply(tables, m)
    folder = tmp_path_factory.mktemp("prop")
    try:
        for name, df in tables.items():
            write_table(df, folder, name, fmt)
    except (ValueError, TypeError, AttributeError):
        return  # the mutation made a file our own test writer cannot express in this format
    try:
        checked = check_trial(folder, fmt, policy="quarantine")
    except (InputError, ValidationFailed) as exc:
        assert str(exc).strip() and ("\n" not in str(exc).split(":")[0])  # one clear message
        return
    acc = checked.gated.accounting
    assert (acc["rows_in"] == acc["rows_accepted"] + acc["rows_quarantined"]).all()
    for rec in acc.to_dict("records"):
        assert rec["rows_in"] == rows_in_file(folder / rec["file"]), rec
