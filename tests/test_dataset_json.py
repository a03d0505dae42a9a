import json

import polars as pl
import pytest

from regrowth.errors import InputError
from regrowth.ingest import ingest_trial
from regrowth.ingest.dataset_json import cast_columns, read_dataset_json
from regrowth.simulate.export_dataset_json import write_dataset_json
from regrowth.summarize.stats import newcombe_diff, wilson


def dataset(columns, rows, **over):
    meta = {"datasetJSONCreationDateTime": "2024-01-01T00:00:00", "datasetJSONVersion": "1.1.0",
            "itemGroupOID": "IG.DM", "records": len(rows), "name": "DM", "label": "Demographics",
            "columns": [{"itemOID": f"IT.{n}", "name": n, "label": n, "dataType": t, **extra}
                        for n, t, extra in columns], "rows": rows}
    meta.update(over)
    return meta


DM_COLUMNS = [("STUDYID", "string", {}), ("DOMAIN", "string", {}), ("USUBJID", "string", {}),
              ("SEX", "string", {}), ("AGE", "integer", {}), ("HEIGHT", "decimal", {"targetDataType": "decimal"}),
              ("RFSTDTC", "date", {})]


def write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_types_and_null_versus_empty(tmp_path):
    rows = [["T", "DM", "T-1", "F", 34, "171.25", "2020-01-02"], ["T", "DM", "T-2", "", None, None, None]]
    read, meta = read_dataset_json(write(tmp_path / "dm.json", dataset(DM_COLUMNS, rows)))
    # as written: "" and null stay distinct
    assert read[1][3] == "" and read[1][4] is None
    cast = cast_columns(read, meta, tmp_path / "dm.json")
    assert cast["AGE"].dtype == pl.Float64 and cast["AGE"].to_list() == [34.0, None]
    assert cast["HEIGHT"].to_list()[0] == 171.25  # decimal written as text becomes a number
    assert cast["SEX"].to_list()[1] == "" and cast["RFSTDTC"].to_list()[1] is None
    # in the canonical model both are missing (SDTM has no empty string)
    dm = ingest_trial(tmp_path, "dataset-json").tables["dm"]
    assert dm["SEX"].is_null().to_list() == [False, True]


@pytest.mark.parametrize("values", [["a", None, "", " b ", "é"],  # all text or null
                                    ["a", None, "", 7, 1.5, True, [1, 2], float("nan"), 10**20]])  # any JSON value
def test_text_columns_hold_each_value_as_its_text(tmp_path, values):
    # text-only columns take a quicker path than mixed ones: both give str(value), null stays null
    rows = [[v] for v in values]
    cast = cast_columns(rows, {"columns": [{"name": "SEX", "dataType": "string"}]}, tmp_path / "dm.json")
    assert cast["SEX"].dtype == pl.String
    assert cast["SEX"].to_list() == [None if v is None else str(v) for v in values]
    assert cast["SEX"].is_null().to_list() == [v is None for v in values]


def test_ndjson(tmp_path):
    meta = dataset(DM_COLUMNS, [])
    meta.pop("rows")
    meta["records"] = 2
    lines = [json.dumps(meta), json.dumps(["T", "DM", "T-1", "M", 50, "180", "2020-01-01"]),
             json.dumps(["T", "DM", "T-2", "F", 40, "165.5", "2020-01-03"])]
    (tmp_path / "dm.ndjson").write_text("\n".join(lines) + "\n")
    dm = ingest_trial(tmp_path, "dataset-json").tables["dm"]
    assert dm["USUBJID"].to_list() == ["T-1", "T-2"] and dm["AGE"].to_list() == [50.0, 40.0]
    assert dm["SRCFILE"].to_list() == ["dm.ndjson"] * 2 and dm["SRCROW"].to_list() == [1.0, 2.0]


def test_round_trip_through_writer(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"STUDYID": ["T"], "DOMAIN": ["RS"], "USUBJID": ["T-1"], "RSSEQ": [1.0],
                       "RSTESTCD": ["SALTTOT"], "RSSTRESN": [62.6], "VISITNUM": [2.0], "RSDTC": ["2020-01-01"]})
    write_dataset_json(df, tmp_path / "rs.ndjson", "rs", "T", ndjson=True)
    rs = ingest_trial(tmp_path, "dataset-json").tables["rs"]
    assert rs["RSSTRESN"].to_list() == [62.6] and rs["RSTESTCD"].to_list() == ["SALTTOT"]


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.pop("columns"), "'columns' is a required property"),
    (lambda d: d.update(datasetJSONVersion="1.0.0"), "datasetJSONVersion"),
    (lambda d: d["columns"][4].update(dataType="number"), "columns/4/dataType"),
    (lambda d: d.update(records=5), "'records' says 5 but the file holds 1 rows"),
    (lambda d: d["rows"][0].pop(), "row 1 has 6 values but 7 columns"),
    (lambda d: d["rows"].__setitem__(0, "T-1"), "row 1 has str values but 7 columns"),
    (lambda d: d.update(rows={"T-1": 34}), "rows: {'T-1': 34} is not of type 'array'"),
    (lambda d: d["rows"][0].__setitem__(4, "forty"), "column AGE is integer but row 1 holds 'forty'"),
])
def test_malformed_files_are_named_with_the_reason(tmp_path, mutate, message):
    d = dataset(DM_COLUMNS, [["T", "DM", "T-1", "F", 34, "171.25", "2020-01-02"]])
    mutate(d)
    write(tmp_path / "dm.json", d)
    with pytest.raises(InputError, match="dm.json") as exc:
        ingest_trial(tmp_path, "dataset-json")
    assert message in str(exc.value)


def test_invalid_json(tmp_path):
    (tmp_path / "dm.json").write_text('{"datasetJSONVersion": "1.1.0", ')
    with pytest.raises(InputError, match=r"dm.json: invalid JSON at line 1"):
        ingest_trial(tmp_path, "dataset-json")


class TestNewcombe:
    def test_wilson(self):
        # Newcombe (1998) Table I example: 81/263 -> 0.2553 to 0.3662
        lo, hi = wilson(81, 263)
        assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)

    def test_difference(self):
        # Newcombe (1998) Table II example (a): 56/70 - 48/80 = 0.2000, method 10: 0.0524 to 0.3339
        d, lo, hi = newcombe_diff(56, 70, 48, 80)
        assert d == pytest.approx(0.2, abs=1e-9)
        assert lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)

    def test_zero_events(self):
        # 0/10 - 0/20: the limits are the Wilson upper limits 0.2775 (n=10) and 0.1611 (n=20)
        d, lo, hi = newcombe_diff(0, 10, 0, 20)
        assert d == 0 and lo == pytest.approx(-0.1611, abs=1e-4) and hi == pytest.approx(0.2775, abs=1e-4)
