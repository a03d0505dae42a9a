"""Parquet writes: the same options everywhere, statistics where readers can use them."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regrowth.parquet_io import read_table, write_table


def test_statistics_for_numbers_dates_and_subjects_not_for_other_text(tmp_path):
    df = pd.DataFrame({"USUBJID": ["S-01", "S-02", "S-03"], "PARAMCD": ["SALT", "SALT01", None],
                       "AVAL": [1.5, None, 3.0], "ADT": pd.to_datetime(["2020-01-02", None, "2020-03-04"])})
    write_table(df, tmp_path / "t.parquet")
    chunk = pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
    stats = {chunk.column(i).path_in_schema: chunk.column(i).is_stats_set for i in range(chunk.num_columns)}
    assert stats == {"USUBJID": True, "PARAMCD": False, "AVAL": True, "ADT": True}
    assert chunk.column(0).statistics.min == "S-01" and chunk.column(0).statistics.max == "S-03"
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), df)
    got = read_table(tmp_path / "t.parquet", filters=[("PARAMCD", "==", "SALT")])  # filters need no statistics
    pd.testing.assert_frame_equal(got, df.iloc[:1])


def test_filtered_read_of_a_file_without_row_groups_gives_its_columns_empty(tmp_path):
    import pyarrow as pa

    schema = pa.schema([("USUBJID", pa.large_string()), ("PARAMCD", pa.large_string()), ("AVAL", pa.float64())])
    pq.ParquetWriter(tmp_path / "none.parquet", schema).close()  # no row group written
    assert pq.ParquetFile(tmp_path / "none.parquet").num_row_groups == 0
    got = read_table(tmp_path / "none.parquet", columns=["PARAMCD", "AVAL"], filters=[("PARAMCD", "==", "SALT")])
    assert list(got.columns) == ["PARAMCD", "AVAL"] and got.empty
    assert list(read_table(tmp_path / "none.parquet", filters=[("AVAL", ">", 1)]).columns) == schema.names


def test_filtered_read_of_a_file_without_rows_ignores_a_filter_its_types_do_not_fit(tmp_path):
    # a table without rows may have been written with text columns only (an empty summary
    # table); a filter on a number reads it as empty
    empty = pd.DataFrame({"PARAMCD": pd.Series(dtype="str"), "AVISITN": pd.Series(dtype="str")})
    write_table(empty, tmp_path / "t.parquet")
    got = read_table(tmp_path / "t.parquet", columns=["AVISITN"], filters=[("AVISITN", "in", [12.0])])
    assert got.empty and list(got.columns) == ["AVISITN"] and got["AVISITN"].dtype == "str"


def test_dictionary_columns_are_written_in_sorted_order_whatever_order_they_came_in(tmp_path):
    import polars as pl

    from regrowth.parquet_io import read_frame, write_frame

    values = ["Y", None, "N", "Y"]
    one = pa.table({"F": pa.DictionaryArray.from_arrays(pa.array([0, None, 1, 0], pa.int32()), pa.array(["Y", "N"]))})
    two = pa.table({"F": pa.DictionaryArray.from_arrays(pa.array([1, None, 0, 1], pa.int32()), pa.array(["N", "Y"]))})
    from regrowth.parquet_io import write_arrow

    write_arrow(one, tmp_path / "one.parquet")
    write_arrow(two, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    assert pq.read_table(tmp_path / "one.parquet").column("F").to_pylist() == values
    frame = pl.DataFrame({"F": pl.Series(values, dtype=pl.Categorical), "N": [1, 2, 3, 4]})
    write_frame(frame, tmp_path / "ds" / "part-000.parquet")
    write_frame(frame.head(1), tmp_path / "ds" / "part-001.parquet")
    got = read_frame(tmp_path / "ds")
    assert got["F"].dtype == pl.Categorical and got["F"].to_list() == values + ["Y"]


def test_the_pandas_layer_reads_dictionary_text_as_text(tmp_path):
    import polars as pl

    from regrowth.parquet_io import as_pandas, write_frame

    frame = pl.DataFrame({"F": pl.Series(["Y", None], dtype=pl.Categorical), "N": [1.5, None]})
    write_frame(frame, tmp_path / "t.parquet")
    for got in (read_table(tmp_path / "t.parquet"), read_table(tmp_path / "t.parquet", filters=[("N", ">", 1)]),
                as_pandas(frame)):
        assert got["F"].dtype == "str" and got["F"].iloc[0] == "Y"


def test_a_polars_frame_is_written_the_same_whatever_order_its_categories_were_made_in(tmp_path):
    # the polars writer: a file's dictionary follows the rows, not the order categories arose in
    import polars as pl

    from regrowth.parquet_io import read_frame, read_metadata, write_frame

    values = ["N", "Y", None, "N"]
    first = pl.DataFrame({"USUBJID": ["S-02", "S-01", "S-03", "S-04"], "F": pl.Series(values, dtype=pl.Categorical)})
    pl.Series(["zz-unused", "Y", "N"], dtype=pl.Categorical)  # categories made elsewhere, in another order
    second = pl.DataFrame({"USUBJID": ["S-02", "S-01", "S-03", "S-04"], "F": pl.Series(values, dtype=pl.Categorical)})
    write_frame(first, tmp_path / "one.parquet", {"code": {"hash": "abc"}})
    write_frame(second, tmp_path / "two.parquet", {"code": {"hash": "abc"}})
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    assert read_metadata(tmp_path / "one.parquet") == {"code": {"hash": "abc"}}
    got = read_frame(tmp_path / "one.parquet")
    assert got["F"].dtype == pl.Categorical and got["F"].to_list() == values
    stats = pq.ParquetFile(tmp_path / "one.parquet").metadata.row_group(0).column(0).statistics
    assert (stats.min, stats.max) == ("S-01", "S-04")  # readers skip row groups by subject
    assert not list(tmp_path.glob("*.tmp"))
