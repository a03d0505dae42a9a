import csv
import io

import pandas as pd

from regrowth.csv_safe import to_safe_csv


def test_formula_like_text_is_made_inert():
    df = pd.DataFrame({"usubjid": ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)", "\tx", "ok", "a=b"],
                       "n": [1, 2, 3, 4, 5, 6, 7]})
    rows = list(csv.reader(io.StringIO(to_safe_csv(df))))
    cells = [r[0] for r in rows[1:]]
    assert cells[:5] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx"]
    assert cells[5:] == ["ok", "a=b"]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(1, 8)]  # numbers untouched (negative ones too)


def test_negative_numbers_stay_numbers():
    rows = list(csv.reader(io.StringIO(to_safe_csv(pd.DataFrame({"x": [-1.5, 2.0]})))))
    assert rows[1:] == [["-1.5"], ["2.0"]]


def test_a_polars_frame_is_written_column_wise_as_pandas_writes_it(tmp_path):
    import polars as pl

    from regrowth.csv_safe import write_safe_csv

    df = pd.DataFrame({"usubjid": ["=cmd|' /C calc'!A0", "-1", "ok", None, "@x"], "row": pd.array([1, None, 3, 4, 5], "Int64"),
                       "message": ["a, \"quoted\" text", "+", "fine", "-", "=1"]})
    write_safe_csv(df, tmp_path / "pandas.csv")
    write_safe_csv(pl.from_pandas(df), tmp_path / "polars.csv")
    assert (tmp_path / "polars.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    rows = list(csv.reader(io.StringIO((tmp_path / "polars.csv").read_bytes().decode())))
    assert [r[0] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "'-1", "ok", "", "'@x"]
    assert [r[2] for r in rows[1:]] == ["a, \"quoted\" text", "'+", "fine", "'-", "'=1"]


def test_a_line_break_inside_a_cell_stays_inside_it(tmp_path):
    import polars as pl

    from regrowth.csv_safe import write_safe_csv

    write_safe_csv(pl.DataFrame({"message": ["\rstarts with a carriage return", "two\nlines"], "n": [1, 2]}),
                   tmp_path / "x.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "x.csv").read_bytes().decode())))
    assert rows[1:] == [["'\rstarts with a carriage return", "1"], ["two\nlines", "2"]]
