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
    dup = df.duplicated(subset=keys, keep=False)
    if dup.any():
        first = df.loc[dup, keys].head(3).to_dict("records")
        raise ContractError(
            f"{where}: {int(dup.sum())} rows share a key ({', '.join(keys)}); first: {first}"
        )


def blank_to_null(df: pd.DataFrame) -> pd.DataFrame:
    """Character missing in SAS and CSV exports is '' or whitespace: make it null."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            s = out[col].astype("str")
            s = s.str.strip()
            out[col] = s.mask(s == "")
    return out


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key, aligned to `keys` (missing keys give null of values' dtype).

    Like keys.map(values), but also safe when `values` is empty (pandas 3 cannot map through
    an empty datetime Series). `values` must have a unique index.
    """
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


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
