"""Small guards every derivation calls first (admiral style: check inputs, fail loudly)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from regrowth.errors import ContractError


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
