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
