"""The frame helpers every stage leans on give exactly what the plain pandas call gives."""

import numpy as np
import pandas as pd
import pytest

from regrowth.errors import ContractError
from regrowth.frames import blank_to_null, lookup, lookup_columns, sort_rows, sorted_order


def test_lookup_matches_reindex_for_every_kind_of_key_and_value():
    keys = pd.Series(["B", None, "A", "Z", "B", ""], dtype="str", index=[5, 4, 3, 2, 1, 0])
    index = pd.Index(["A", "B", ""], dtype="str")
    for values in (pd.Series(["a", None, "e"], index=index, dtype="str"),
                   pd.Series([1.5, 2.5, np.nan], index=index),
                   pd.Series(pd.to_datetime(["2020-01-02", "2021-03-04", None]), index=index),
                   pd.Series([], index=pd.Index([], dtype="str"), dtype="datetime64[s]")):
        expected = pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)
        pd.testing.assert_series_equal(lookup(keys, values), expected)
    assert lookup(keys, pd.Series(["a", "b", "e"], index=index, dtype="str")).tolist()[:3] == ["b", np.nan, "a"]


def test_lookup_columns_is_a_left_join_on_a_unique_key():
    table = pd.DataFrame({"USUBJID": ["S1", "S2"], "ARM": ["Drug", "Placebo"], "AGE": [40.0, 51.0]})
    keys = pd.Series(["S2", "S9", "S1", "S2"], dtype="str")
    got = lookup_columns(keys, table.set_index("USUBJID"))
    expected = keys.to_frame("USUBJID").merge(table, on="USUBJID", how="left").drop(columns="USUBJID")
    pd.testing.assert_frame_equal(got, expected)


def _random_frame(rng, n):
    words = np.array(["b", "a", "é", "A", "ab", "", "z"], dtype=object)
    text = pd.Series(words[rng.integers(0, len(words), n)], dtype="str").mask(rng.random(n) < 0.2)
    num = pd.Series(rng.integers(0, 4, n).astype("float64")).mask(rng.random(n) < 0.2)
    when = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")).mask(
        rng.random(n) < 0.2)
    return pd.DataFrame({"text": text, "num": num, "when": when, "row": np.arange(n)})


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("nulls_first", [False, True])
def test_sort_rows_gives_pandas_stable_sort_with_missing_values(seed, nulls_first):
    df = _random_frame(np.random.default_rng(seed), 300)
    for keys in (["text"], ["text", "num"], ["num", "when", "text"], ["when"]):
        expected = df.sort_values(keys, kind="stable", na_position="first" if nulls_first else "last")
        pd.testing.assert_frame_equal(sort_rows(df, keys, nulls_first), expected.reset_index(drop=True))
        pd.testing.assert_frame_equal(sort_rows(df, keys, nulls_first, keep_index=True), expected)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("nulls_first", [False, True])
def test_sort_rows_of_rows_in_order_of_the_leading_keys_only(seed, nulls_first):
    # a table in subject order sorted by subject, parameter, visit: the leading keys are in
    # order (missing values included), the rest are not; the order is still pandas' stable one
    na = "first" if nulls_first else "last"
    df = _random_frame(np.random.default_rng(seed), 300)
    for leading, keys in ((["text"], ["text", "num", "when"]), (["num", "text"], ["num", "text", "when"]),
                          (["when"], ["when", "text"])):
        ordered = df.sort_values(leading, kind="stable", na_position=na).reset_index(drop=True)
        expected = ordered.sort_values(keys, kind="stable", na_position=na)
        pd.testing.assert_frame_equal(sort_rows(ordered, keys, nulls_first, keep_index=True), expected)


def test_sorted_order_skips_the_reordering_only_when_already_sorted():
    df = pd.DataFrame({"k": pd.Series(["a", "a", "b", None], dtype="str"), "n": [2.0, 3.0, 1.0, np.nan]})
    assert sorted_order(df, ["k", "n"]) is None
    assert sorted_order(df, ["k", "n"], nulls_first=True).tolist() == [3, 0, 1, 2]
    assert sorted_order(df.iloc[[1, 0, 2, 3]], ["k", "n"]).tolist() == [1, 0, 2, 3]
    assert sorted_order(df.iloc[:0], ["k"]) is None


def test_blank_to_null_trims_text_and_nulls_blanks_only():
    df = pd.DataFrame({"a": pd.Series([" x ", "", "  ", None, "y"], dtype="str"),
                       "b": pd.Series(["p", "q", "r", "s", "t"], dtype="str"), "n": [1, 2, 3, 4, 5]})
    out = blank_to_null(df)
    assert out["a"].tolist()[:1] == ["x"] and out["a"].isna().tolist() == [False, True, True, True, False]
    pd.testing.assert_series_equal(out["b"], df["b"])
    pd.testing.assert_series_equal(out["n"], df["n"])
    assert list(out.columns) == ["a", "b", "n"]


def test_key_codes_group_rows_like_groupby_with_missing_keys_equal():
    from regrowth.frames import key_codes

    df = pd.DataFrame({"u": pd.Series(["a", "a", None, "b", None, "a"], dtype="str"),
                       "v": [1.0, 2.0, np.nan, 1.0, np.nan, 1.0]})
    codes = key_codes(df, ["u", "v"])
    expected = df.groupby(["u", "v"], dropna=False, sort=False).ngroup().to_numpy()
    assert pd.factorize(codes)[0].tolist() == pd.factorize(expected)[0].tolist() == [0, 1, 2, 3, 2, 0]
    assert key_codes(df.iloc[:0], ["u"]).tolist() == []
    ordered = df.sort_values(["u", "v"], kind="stable").reset_index(drop=True)  # runs: codes without hashing
    expected = ordered.groupby(["u", "v"], dropna=False, sort=False).ngroup().to_numpy()
    assert key_codes(ordered, ["u", "v"]).tolist() == pd.factorize(expected)[0].tolist() == [0, 0, 1, 2, 3, 3]


def test_any_in_group_spreads_a_flag_over_its_group():
    from regrowth.frames import any_in_group

    codes = np.array([0, 1, 2, 3, 2, 0])
    assert any_in_group(codes, [False, True, False, False, True, False]).tolist() == [
        False, True, True, False, True, False]
    assert any_in_group(np.array([], dtype=np.int64), []).tolist() == []


def test_filtered_read_gives_what_a_whole_read_then_filter_gives(tmp_path):
    from regrowth.parquet_io import read_table, write_table

    rng = np.random.default_rng(5)
    n = 5000
    frame = pd.DataFrame({
        "USUBJID": pd.Series([f"S{k % 700:04d}" if k % 97 else None for k in range(n)], dtype="str"),
        "PARAMCD": pd.Series(rng.choice(["SALT", "SALT01", "SALT02"], n), dtype="str"),
        "DTYPE": pd.Series(rng.choice(["DERIVED", None, ""], n), dtype="str"),
        "AVAL": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 100),
        "ADT": pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")),
    })
    path = tmp_path / "adsalt.parquet"
    write_table(frame, path, {"rule": "test"})
    got = read_table(path, columns=["USUBJID", "PARAMCD", "DTYPE", "AVAL"], filters=[("PARAMCD", "==", "SALT")])
    whole = read_table(path)
    expected = whole[whole["PARAMCD"] == "SALT"][["USUBJID", "PARAMCD", "DTYPE", "AVAL"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert got["USUBJID"].dtype == whole["USUBJID"].dtype and got["USUBJID"].isna().any()


def test_select_rows_is_the_row_filter_of_only_the_named_columns():
    from regrowth.frames import select_rows

    df = pd.DataFrame({"A": ["x", "y", None, "z"], "B": [1.0, 2.0, 3.0, np.nan], "C": ["p", "q", "r", "s"]},
                      index=[10, 11, 12, 13])
    mask = pd.Series([True, False, True, True], index=df.index)
    pd.testing.assert_frame_equal(select_rows(df, mask, ["B", "A"]), df[mask][["B", "A"]])
    assert select_rows(df, mask.to_numpy(), ["A"]).index.tolist() == [10, 12, 13]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("nulls_first", [False, True])
def test_sorted_input_is_recognised_exactly_when_sorting_would_not_move_a_row(seed, nulls_first):
    rng = np.random.default_rng(seed)
    df = _random_frame(rng, 40).drop(columns="row")
    df["obj"] = pd.Series(rng.integers(0, 3, 40).astype(str), dtype=object).mask(rng.random(40) < 0.2)
    for keys in (["text"], ["text", "num"], ["num", "when", "text"], ["when", "obj"], ["obj", "text"]):
        ordered = df.sort_values(keys, kind="stable", na_position="first" if nulls_first else "last")
        ordered = ordered.reset_index(drop=True)
        assert sorted_order(ordered, keys, nulls_first) is None, keys  # sorted: recognised
        moved = ordered.iloc[::-1].reset_index(drop=True)
        identical = moved[keys].equals(ordered[keys])
        assert (sorted_order(moved, keys, nulls_first) is None) == identical, keys
        got = moved.take(sorted_order(moved, keys, nulls_first)) if not identical else moved
        pd.testing.assert_frame_equal(got[keys].reset_index(drop=True), ordered[keys])


@pytest.mark.parametrize("seed", range(6))
def test_duplicated_rows_is_pandas_duplicated_sorted_or_not(seed):
    from regrowth.frames import duplicated_rows

    rng = np.random.default_rng(seed)
    df = _random_frame(rng, 60).drop(columns="row")
    for keys in (["text"], ["text", "num"], ["num", "when", "text"]):
        for frame in (df, df.sort_values(keys, kind="stable").set_axis(range(100, 160))):  # unsorted, sorted
            pd.testing.assert_series_equal(duplicated_rows(frame, keys), frame.duplicated(subset=keys, keep=False))
    one = df.iloc[:1]
    assert not duplicated_rows(one, ["text"]).any() and duplicated_rows(df.iloc[:0], ["text"]).empty


@pytest.mark.parametrize("seed", range(6))
def test_group_bounds_are_groupby_head_and_tail_of_a_sorted_frame(seed):
    from regrowth.frames import group_bounds

    rng = np.random.default_rng(seed)
    df = _random_frame(rng, 80)
    for keys in (["text"], ["text", "num"], ["num", "when", "text"]):
        frame = sort_rows(df, keys + ["row"]).set_axis(range(200, 280))
        first, last = group_bounds(frame, keys)
        assert frame.index[first].tolist() == frame.groupby(keys).head(1).index.tolist()
        assert frame.index[last].tolist() == frame.groupby(keys).tail(1).index.tolist()
    assert [b.tolist() for b in group_bounds(df.iloc[:0], ["text"])] == [[], []]
    unsorted = pd.DataFrame({"text": pd.Series(["b", "a"], dtype="str")})
    with pytest.raises(ContractError, match="not in order of text"):
        group_bounds(unsorted, ["text"])


@pytest.mark.parametrize("seed", range(8))
def test_blank_to_null_is_strip_then_blank_to_null_for_any_text(seed):
    rng = np.random.default_rng(seed)
    pieces = np.array(["x", "ab", "", " ", "\t", "\xa0", "é", "Ærø", "\u3000", "\x1f", "~", "z z"], dtype=object)
    n = 200
    values = ["".join(pieces[rng.integers(0, len(pieces), rng.integers(0, 4))]) for _ in range(n)]
    if seed % 2:  # half the frames: printable ASCII ends only, the path that reads offsets
        values = [v.strip() or "k" for v in values]
        values = ["q" + v + "q" if not v.isascii() else v for v in values]
    col = pd.Series(values, dtype="str").mask(rng.random(n) < 0.1)
    for frame in (col, col.iloc[50:150]):  # a slice: Arrow offsets start inside the buffer
        got = blank_to_null(frame.to_frame("a"))["a"]
        expected = frame.str.strip()
        expected = expected.mask(expected == "")
        pd.testing.assert_series_equal(got, expected, check_names=False)
