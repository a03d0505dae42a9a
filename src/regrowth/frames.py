"""Small guards every derivation calls first (admiral style: check inputs, fail loudly)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from regrowth.errors import ContractError

# What pyarrow raises for input it will not take (callers then fall back to a slower, careful path)
ARROW_REFUSALS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def require_columns(df: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise if any of `columns` is absent from `df`."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ContractError(f"{where}: required column(s) missing: {', '.join(missing)}")


def assert_unique_keys(df: pd.DataFrame, keys: list[str], where: str) -> None:
    """Raise naming the first duplicated key values if `keys` do not identify rows."""
    require_columns(df, keys, where)
    dup = duplicated_rows(df, keys)
    if dup.any():
        first = df.loc[dup, keys].head(3).to_dict("records")
        raise ContractError(
            f"{where}: {int(dup.sum())} rows share a key ({', '.join(keys)}); first: {first}"
        )


def duplicated_rows(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """df.duplicated(subset=keys, keep=False) (missing equals missing). A frame in key order,
    as tables mostly are, has its duplicates side by side: found without hashing any key."""
    tied = _ties_in_order(df, keys, nulls_first=False) if len(df) > 1 else None
    if tied is None:
        return df.duplicated(subset=keys, keep=False)
    dup = np.zeros(len(df), dtype=bool)
    dup[:-1] |= tied
    dup[1:] |= tied
    return pd.Series(dup, index=df.index)


def blank_to_null(df: pd.DataFrame) -> pd.DataFrame:
    """Character missing in SAS and CSV exports is '' or whitespace: make it null (text trimmed)."""
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_string_dtype(s) or s.dtype == object:
            s = s.astype("str")
            if _is_arrow_text(s) and plain_ends_only(pa.array(s, from_pandas=True)):
                out[col] = s  # nothing to trim, no blank: no pass over the distinct values
                continue
            distinct = pd.Series(pd.unique(s), dtype="str")
            trimmed = distinct.str.strip()
            if not trimmed.equals(distinct) or (trimmed == "").any():  # else no pass over every row
                s = s.str.strip()
                s = s.mask(s == "")
        out[col] = s
    return pd.DataFrame(out, index=df.index, columns=df.columns)


def plain_ends_only(text: pa.Array | pa.ChunkedArray) -> bool:
    """True when no value is '' and each starts and ends with a printable ASCII character (no
    space, control or non-ASCII byte), so strip() changes nothing: read from the offsets, ~10x
    faster than finding the distinct values. False means 'maybe', not 'no'."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if not (pa.types.is_large_string(chunk.type) or pa.types.is_string(chunk.type)):
            return False
        if len(chunk) == chunk.null_count:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            starts, ends = starts[valid], ends[valid]
        if (ends <= starts).any():
            return False  # a blank value
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        first, last = data[starts], data[ends - 1]
        if ((first <= 32) | (first >= 127) | (last <= 32) | (last >= 127)).any():
            return False
    return True


def sorted_order(df: pd.DataFrame, keys: list[str], nulls_first: bool = False) -> np.ndarray | None:
    """Row positions that sort `df` by `keys` (stable), or None when it is sorted already.

    Same order as df.sort_values(keys, kind="stable"), but text keys are sorted once per distinct
    value (factorized) and the rows by integer codes: several times faster on millions of rows.
    Sorted input (an export in key order) is recognised by comparing neighbours, without that.
    """
    if not len(df):
        return None
    in_order, tied = _ordered_prefix(df, keys, nulls_first)
    if in_order == len(keys):
        return None
    # the leading keys already in order (a table in subject order) become one run number each
    # run of equal values: no factorizing of millions of subject ids
    coded = [(_run_numbers(tied), len(tied) + 1)] if in_order else []
    for key in keys[in_order:]:  # (sort key, number of values if it is a code) from the primary one
        values = df[key]
        if _is_number(values):
            number, missing = _numbers(values)
            if missing.any():  # where a number is missing, before the number
                coded.append((missing.astype(np.int64) ^ nulls_first, 2))
            coded.append((number, None))
        else:
            code, uniques = pd.factorize(values, sort=True)  # missing: -1
            coded.append((np.where(code < 0, -1 if nulls_first else len(uniques), code) + nulls_first, len(uniques) + 1))
    return np.lexsort([key for key, _ in reversed(_combine_codes(coded))])  # the last key is the primary one


def _combine_codes(keys: list[tuple[np.ndarray, int | None]]) -> list[tuple[np.ndarray, int | None]]:
    """Neighbouring codes (sort keys of 0 to n-1) as one code: one pass of the sort, not two."""
    out: list[tuple[np.ndarray, int | None]] = []
    for key, size in keys:
        if out and size is not None and out[-1][1] is not None and out[-1][1] * size < 2**62:
            before, before_size = out.pop()
            out.append((before.astype(np.int64) * size + key, before_size * size))
        else:
            out.append((key, size))
    return out


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """float64 values with missing as 0.0, and where they are missing (sort keys)."""
    number = values.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(number)
    return np.where(missing, 0.0, number), missing


def _is_arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _ties_in_order(df: pd.DataFrame, keys: list[str], nulls_first: bool) -> np.ndarray | None:
    """If, between neighbours, the first key that differs always goes up (missing last, or
    first): per pair of neighbours, whether they are equal on every key. Else None."""
    in_order, tied = _ordered_prefix(df, keys, nulls_first)
    return tied if in_order == len(keys) else None


def _ordered_prefix(df: pd.DataFrame, keys: list[str], nulls_first: bool) -> tuple[int, np.ndarray]:
    """How many leading keys the rows are in order of, and per pair of neighbours whether they
    are equal on those keys."""
    tied = np.ones(max(len(df) - 1, 0), dtype=bool)  # neighbours equal on the keys seen so far
    for k, key in enumerate(keys):
        if not tied.any():
            break
        step = _steps(df[key], nulls_first)
        if (step[tied] < 0).any():
            return k, tied
        tied &= step == 0
    return len(keys), tied


def _run_numbers(tied: np.ndarray) -> np.ndarray:
    """Per row, the number of its run of rows equal to their neighbours (from _ordered_prefix's ties)."""
    return np.concatenate([[0], np.cumsum(~tied)])


def _steps(values: pd.Series, nulls_first: bool) -> np.ndarray:
    """Per pair of neighbours: -1 down, 0 equal, 1 up, in the sort order of `values`."""
    if _is_number(values):
        number, missing = _numbers(values)
        step = np.sign(np.diff(number)).astype(np.int8)
    elif _is_arrow_text(values):
        text = pa.array(values, from_pandas=True)  # text compared in place: no hashing, no sorting
        before, after = text.slice(0, len(text) - 1), text.slice(1)
        up = pc.fill_null(pc.greater(after, before), False).to_numpy(zero_copy_only=False)
        down = pc.fill_null(pc.less(after, before), False).to_numpy(zero_copy_only=False)
        step = up.astype(np.int8) - down.astype(np.int8)
        missing = values.isna().to_numpy()
    else:
        code, _ = pd.factorize(values, sort=True)
        missing = code < 0
        step = np.sign(np.diff(code)).astype(np.int8)
    # a missing value sorts after every value (before, if nulls_first); two missing are equal
    rank = np.where(missing, -1 if nulls_first else 1, 0).astype(np.int8)
    gap = np.diff(rank)
    return np.where(missing[:-1] | missing[1:], np.sign(gap), step).astype(np.int8)


def group_bounds(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For a frame in `keys` order: per row, whether it is the first, and whether the last, of
    its group of equal keys; rows with a missing key are in no group (as in groupby). The
    groups' head(1) and tail(1) found by comparing neighbours, without grouping."""
    tied = _ties_in_order(df, keys, nulls_first=False)
    if tied is None:
        raise ContractError(f"group_bounds: rows not in order of {', '.join(keys)}")
    first, last = np.ones(len(df), dtype=bool), np.ones(len(df), dtype=bool)
    first[1:] = ~tied
    last[:-1] = ~tied
    grouped = df[keys].notna().all(axis=1).to_numpy()
    return first & grouped, last & grouped


def sort_rows(df: pd.DataFrame, keys: list[str], nulls_first: bool = False, keep_index: bool = False) -> pd.DataFrame:
    """df.sort_values(keys, kind="stable") through sorted_order; the index reset unless keep_index."""
    order = sorted_order(df, keys, nulls_first)
    out = df if order is None else df.take(order)
    return out if keep_index else out.reset_index(drop=True)


def key_codes(df: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per row, equal exactly where the rows' `keys` are all equal (a missing value
    equals a missing value), from 0 up without gaps: grouping without a groupby."""
    if len(df) > 1:
        in_order, tied = _ordered_prefix(df, keys, nulls_first=False)
        if in_order == len(keys):  # rows in key order (RS by subject and visit): runs, nothing hashed
            return _run_numbers(tied)
    codes = np.zeros(len(df), dtype=np.int64)
    for key in keys:
        column, uniques = pd.factorize(df[key], use_na_sentinel=False)
        codes = pd.factorize(codes * len(uniques) + column)[0]  # stays below len(df)
    return codes


def any_in_group(codes: np.ndarray, flags) -> np.ndarray:
    """Per row: whether any row with the same code (key_codes) has its flag set."""
    flags = np.asarray(flags, dtype=bool)
    return np.bincount(codes, weights=flags, minlength=codes.max() + 1 if len(codes) else 0)[codes] > 0


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key, aligned to `keys` (missing keys give null of values' dtype).

    Like keys.map(values), but also safe when `values` is empty (pandas 3 cannot map through
    an empty datetime Series). `values` must have a unique index.
    """
    return lookup_columns(keys, values.to_frame("value"))["value"].rename(None)


def lookup_columns(keys: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """`table`'s row for each key (table indexed by a unique key), aligned to `keys`; missing
    keys give nulls. The keys are factorized once: each column is reindexed per distinct key
    (thousands of subjects) and then taken per row (millions of records)."""
    codes, uniques = pd.factorize(keys)
    labels = pd.Index(uniques).append(pd.Index([None], dtype=keys.dtype))  # a null key: last label
    take = np.where(codes < 0, len(labels) - 1, codes)
    found = table.reindex(labels)
    out = {}
    for col in table.columns:
        values = found[col]
        if _is_arrow_text(values):
            text = pa.array(values, from_pandas=True).take(pa.array(take))  # no object array on the way
            out[col] = pd.Series(pd.array(text, dtype=table[col].dtype), index=keys.index)
        else:
            out[col] = pd.Series(values.to_numpy()[take], index=keys.index, dtype=table[col].dtype)
    return pd.DataFrame(out, index=keys.index, columns=table.columns)


def to_float(values: pd.Series) -> pd.Series:
    """Text to float64; what is not a number becomes NaN. pyarrow's cast when every value
    parses (the common case, ~10x faster on millions of rows), pandas' parser otherwise."""
    try:
        cast = pc.cast(pa.array(values, type=pa.string(), from_pandas=True), pa.float64())
        return pd.Series(cast.to_numpy(zero_copy_only=False), index=values.index, dtype="float64")
    except ARROW_REFUSALS:
        return pd.to_numeric(values, errors="coerce").astype("float64")


def per_distinct(values: pd.Series, compute) -> pd.DataFrame | pd.Series:
    """compute(distinct values) broadcast back to every row: text parsing done once per distinct
    value (millions of SALT rows carry a few dozen visit names and a few thousand dates)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = compute(pd.Series(uniques, dtype=values.dtype))
    # a missing value (code -1) takes the row appended after the last distinct value
    padded = pd.concat([result, compute(pd.Series([None], dtype=values.dtype))], ignore_index=True)
    return padded.iloc[codes].set_axis(values.index)


def select_rows(df: pd.DataFrame, mask, columns: list[str]) -> pd.DataFrame:
    """df[columns][mask]: the rows of `mask`, only the columns a step reads. A row filter copies
    every column it keeps, and copying a table's text columns is what costs at millions of rows."""
    return df[columns][mask]


def isin(values: pd.Series, allowed) -> pd.Series:
    """values.isin(allowed) through pyarrow's hash lookup (~10x pandas' on millions of ids)."""
    try:
        found = pc.is_in(pa.array(values, from_pandas=True), value_set=pa.array(pd.Series(allowed).dropna().unique(),
                                                                                from_pandas=True))
        return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    except ARROW_REFUSALS:  # mixed types
        return values.isin(allowed)


def text_from_codes(codes: np.ndarray, labels: list[str], index: pd.Index) -> pd.Series:
    """labels[code] per row (code -1: null) as a str Series, built in pyarrow: a few distinct
    texts over millions of rows, ~6x faster than through a numpy object array."""
    codes = np.asarray(codes, dtype=np.int32)
    arr = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(labels, type=pa.string()))
    return pd.Series(arr.cast(pa.large_string()).to_pandas(), index=index).astype("str")
