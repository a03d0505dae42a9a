"""Joining Parquet files without decoding them: footers read and written byte for byte, row
groups moved to where their bytes land, and files that differ left to the decoding path."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from regrowth.parquet_append import join_files, read_footer, write_struct
from regrowth.parquet_io import read_metadata, read_table, write_arrow, write_table


def frame(n: int, seed: int, start: int = 0) -> pd.DataFrame:
    """Every column type the workflow writes, with missing values, non-ASCII text and 20 columns
    (a Thrift list of 15 or more fields takes the long header)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "USUBJID": pd.Series([f"S-{start + i:06d}" for i in range(n)], dtype="str"),
        "PARAMCD": pd.Series(rng.choice(["SALT", "SALT01", "Ærø", None], n), dtype="str"),
        "AVAL": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 100, n)),
        "ADT": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "N": rng.integers(0, 5, n),
        "FLAG": rng.random(n) < 0.5,
    })
    for k in range(14):
        df[f"C{k:02d}"] = pd.Series(rng.choice(["a", "b", None], n), dtype="str")
    df["ADT"] = df["ADT"].astype("datetime64[s]")
    return df


def written(tmp_path, name, df, metadata=None, row_group_size=None):
    path = tmp_path / f"{name}.parquet"
    table = pa.Table.from_pandas(df, preserve_index=False)
    if row_group_size:
        from regrowth.parquet_io import with_metadata, writer_options

        table = table.replace_schema_metadata(with_metadata(table.schema, metadata).metadata)
        pq.write_table(table, path, row_group_size=row_group_size, **writer_options(table.schema))
    else:
        write_arrow(table, path, metadata)
    return path


@pytest.mark.parametrize("n", [0, 1, 257, 5000])
def test_footer_is_read_and_written_back_byte_for_byte(tmp_path, n):
    path = written(tmp_path, "t", frame(n, seed=n), {"rule": "x", "inputs": ["é", 1]}, row_group_size=1000)
    footer, start = read_footer(path)
    raw = path.read_bytes()
    encoded = bytearray()
    write_struct(encoded, footer)
    assert bytes(encoded) == raw[start:-8]


def test_joined_file_reads_as_the_parts_one_after_the_other(tmp_path):
    parts = [frame(3000, 1, 0), frame(0, 2), frame(1, 3, 3000), frame(2500, 4, 3001)]
    paths = [written(tmp_path, f"p{k}", df, {"rule": "part", "part": k}, row_group_size=1024)
             for k, df in enumerate(parts)]
    out = tmp_path / "joined.parquet"
    assert join_files(paths, out, {"rule": "combine"}) == 5501
    expected = pd.concat([read_table(p) for p in paths], ignore_index=True)  # as Parquet gives them back
    pd.testing.assert_frame_equal(read_table(out), expected)
    assert read_metadata(out) == {"rule": "combine"}  # the parts' own provenance is gone
    meta = pq.ParquetFile(out).metadata
    assert meta.num_row_groups == 3 + 1 + 3  # the empty part's empty row group left out
    # each row group is found where its bytes landed: read one by one, with statistics intact
    groups = [pq.ParquetFile(p).read_row_group(g) for p in paths for g in range(pq.ParquetFile(p).num_row_groups)
              if pq.ParquetFile(p).metadata.row_group(g).num_rows]
    for g, expected_group in enumerate(groups):
        assert pq.ParquetFile(out).read_row_group(g).equals(expected_group.replace_schema_metadata(
            pq.ParquetFile(out).schema_arrow.metadata))
        stats = meta.row_group(g).column(0).statistics
        assert stats.min == expected_group.column("USUBJID")[0].as_py()
    # offsets left unset stay unset: pyarrow writes the deprecated ColumnChunk.file_offset as 0
    from regrowth.parquet_append import CHUNK_FILE_OFFSET, FILE_ROW_GROUPS, GROUP_COLUMNS, _field

    for source in (paths[0], out):
        groups = _field(read_footer(source)[0], FILE_ROW_GROUPS)[2][1]
        assert {_field(c, CHUNK_FILE_OFFSET)[2] for g in groups for c in _field(g, GROUP_COLUMNS)[2][1]} == {0}
    filtered = read_table(out, filters=[("USUBJID", ">=", "S-003000")])
    pd.testing.assert_frame_equal(filtered, expected[expected["USUBJID"] >= "S-003000"].reset_index(drop=True))


def test_join_is_deterministic_and_a_written_table_joins_with_itself(tmp_path):
    df = frame(700, 9)
    write_table(df, tmp_path / "a.parquet", {"rule": "a"})
    write_table(df, tmp_path / "b.parquet", {"rule": "b"})
    join_files([tmp_path / "a.parquet", tmp_path / "b.parquet"], tmp_path / "j1.parquet", {"rule": "j"})
    join_files([tmp_path / "a.parquet", tmp_path / "b.parquet"], tmp_path / "j2.parquet", {"rule": "j"})
    assert (tmp_path / "j1.parquet").read_bytes() == (tmp_path / "j2.parquet").read_bytes()
    once = read_table(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "j1.parquet"), pd.concat([once, once], ignore_index=True))


@pytest.mark.parametrize("change", ["drop a column", "other type", "other order"])
def test_files_that_differ_are_not_joined_and_nothing_is_written(tmp_path, change):
    df = frame(50, 5)
    other = {"drop a column": df.drop(columns="C03"),
             "other type": df.assign(N=df["N"].astype("float64")),
             "other order": df[list(df.columns[::-1])]}[change]
    paths = [written(tmp_path, "a", df), written(tmp_path, "b", other)]
    assert join_files(paths, tmp_path / "j.parquet") is None
    assert not (tmp_path / "j.parquet").exists() and not (tmp_path / "j.parquet.tmp").exists()


def test_combine_joins_equal_parts_and_decodes_parts_whose_columns_differ(tmp_path, monkeypatch):
    import regrowth.partition.combine as combine

    joined = []
    real = combine.join_files
    monkeypatch.setattr(combine, "join_files", lambda *a, **k: joined.append(real(*a, **k)) or joined[-1])
    same = [written(tmp_path, "s0", frame(40, 1)), written(tmp_path, "s1", frame(30, 2, 40))]
    assert combine.concat_parts(same, tmp_path / "same.parquet", {"rule": "c"}) == 70
    assert joined == [70]
    # a qualifier only the second part has: null in the first, columns in canonical order
    first, second = frame(10, 3), frame(5, 4, 10).assign(AEXTRA=pd.Series(["q"] * 5, dtype="str"))
    differ = [written(tmp_path, "d0", first), written(tmp_path, "d1", second)]
    assert combine.concat_parts(differ, tmp_path / "differ.parquet", {"rule": "c"}) == 15
    got = read_table(tmp_path / "differ.parquet")
    assert got["AEXTRA"].isna().sum() == 10 and (got["AEXTRA"].iloc[10:] == "q").all()
    parts = [read_table(p).drop(columns="AEXTRA", errors="ignore") for p in differ]
    pd.testing.assert_frame_equal(got.drop(columns="AEXTRA"), pd.concat(parts, ignore_index=True))
    assert read_metadata(tmp_path / "differ.parquet") == read_metadata(tmp_path / "same.parquet") == {"rule": "c"}


def test_a_footer_the_reader_cannot_follow_is_left_to_the_decoding_path(tmp_path, monkeypatch):
    import regrowth.parquet_append as append

    paths = [written(tmp_path, "a", frame(5, 1)), written(tmp_path, "b", frame(5, 2, 5))]

    def unknown_type(reader):
        raise ValueError("Thrift compact type 13 is not one Parquet uses")

    monkeypatch.setattr(append, "read_struct", unknown_type)
    assert append.join_files(paths, tmp_path / "j.parquet") is None and not (tmp_path / "j.parquet").exists()
    from regrowth.partition.combine import concat_parts

    assert concat_parts(paths, tmp_path / "c.parquet") == 10  # decoded and written instead
    assert read_table(tmp_path / "c.parquet")["USUBJID"].tolist() == [f"S-{i:06d}" for i in range(10)]


def test_subject_order_is_checked_past_a_part_without_usubjid(tmp_path):
    from regrowth.errors import ContractError
    from regrowth.partition.combine import check_subject_order

    def part(name, df):
        path = tmp_path / f"{name}.parquet"
        df.to_parquet(path, index=False)
        return str(path)

    no_ids = part("n", pd.DataFrame({"X": [1]}))
    later, earlier = (part(k, pd.DataFrame({"USUBJID": pd.Series([v], dtype="str"), "X": [1]}))
                      for k, v in (("c", "C"), ("a", "A")))
    check_subject_order([no_ids, earlier, later])
    with pytest.raises(ContractError, match="does not sort after"):
        check_subject_order([no_ids, later, earlier])
