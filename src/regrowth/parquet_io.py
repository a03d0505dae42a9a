"""One way in and out of Parquet for every stage.

Writes are deterministic (fixed writer options, no timestamps, no pandas index), so the same
frame gives the same bytes; key-value metadata carries provenance under 'regrowth.*' keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regrowth.errors import ContractError


def write_table(df, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """A pandas or polars frame to Parquet."""
    if not isinstance(df, pd.DataFrame):
        return write_frame(df, path, metadata)
    write_arrow(pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False), path, metadata)


def write_frame(df, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """A polars frame to Parquet by polars' own writer, with statistics for every column;
    Categorical columns stay dictionary-encoded, each file's dictionary in the order the rows
    first use its values (not the order categories were made in). Through a pyarrow table, a
    check job of a 50,000-subject part took 1.2 CPU-s more (of 13), and an ADSALT part's write
    3.0 s instead of 0.9 s."""
    path, tmp = _paths(path)
    df.write_parquet(tmp, compression="zstd", statistics=True, metadata=regrowth_metadata(metadata))
    os.replace(tmp, path)  # no half-written outputs


def _paths(path) -> tuple[Path, Path]:
    """The output (its folder made) and the temporary file it is written to first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.with_name(path.name + ".tmp")


def regrowth_metadata(metadata: dict | None) -> dict[str, str]:
    """Provenance as key-value metadata under 'regrowth.*' keys, each value JSON."""
    return {f"regrowth.{key}": json.dumps(value, sort_keys=True, default=str)
            for key, value in sorted((metadata or {}).items())}


def read_frame(path, columns: list[str] | None = None):
    """A Parquet file, a dataset directory of part files or a list of them, as one polars frame
    (dictionary columns come back Categorical). Missing columns are an error naming the file.
    Read by polars itself: through a pyarrow table, RS of a 50,000-subject part took 11 s, 1.9 s so."""
    import polars as pl

    files = part_files(path)
    if columns is not None:
        for f in files:
            if missing := [c for c in columns if c not in pq.read_schema(f).names]:
                raise ContractError(f"{f.name}: column(s) missing: {', '.join(missing)}")
    try:
        return pl.read_parquet([str(f) for f in files], columns=columns)
    except pl.exceptions.PolarsError:  # parts whose types differ (one without rows): Arrow unifies them
        return pl.from_arrow(_read_arrow(files, columns, None))


def part_files(path) -> list[Path]:
    """The files of a table: a file, a list of files, or a dataset directory's part files in order."""
    if isinstance(path, (list, tuple)):
        return [f for p in path for f in part_files(p)]
    path = Path(path)
    if not path.is_dir():
        return [path]
    parts = sorted(path.glob("*.parquet"))
    if not parts:
        raise ContractError(f"{path}: a dataset directory without part files")
    return parts


def _read_arrow(path, columns: list[str] | None, filters) -> pa.Table:
    pieces = [_read_file(f, columns, filters) for f in part_files(path)]
    if len(pieces) == 1:
        return pieces[0]
    # a part without rows may carry other types for a column (all null): the others' win
    return pa.concat_tables(pieces, promote_options="permissive")


def write_arrow(table: pa.Table, path: str | os.PathLike, metadata: dict | None = None) -> None:
    path, tmp = _paths(path)
    table = sorted_dictionaries(table)
    table = table.replace_schema_metadata(with_metadata(table.schema, metadata).metadata)
    pq.write_table(table, tmp, **writer_options(table.schema))
    os.replace(tmp, path)  # no half-written outputs


def sorted_dictionaries(table: pa.Table) -> pa.Table:
    """Each dictionary column with its values in sorted order: an engine's dictionary order can
    depend on the order its threads met the values, and the bytes written must not."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type) and column.num_chunks:
            column = column.unify_dictionaries() if column.num_chunks > 1 else column
            chunks = []
            for chunk in column.chunks:
                if _is_sorted(chunk.dictionary):  # a flag's one value, or already in order: nothing to remap
                    chunks.append(chunk)
                    continue
                order = pc.array_sort_indices(chunk.dictionary)
                new_code = pc.array_sort_indices(order)  # old code -> its rank
                indices = pc.take(new_code, chunk.indices).cast(chunk.indices.type)
                chunks.append(pa.DictionaryArray.from_arrays(indices, pc.take(chunk.dictionary, order)))
            column = pa.chunked_array(chunks, type=column.type)
        columns.append(column)
    return pa.table(columns, schema=table.schema)


def _is_sorted(values: pa.Array) -> bool:
    """Strictly ascending (a dictionary holds each value once); nulls are not in dictionaries."""
    if len(values) < 2:
        return True
    return bool(pc.all(pc.less(values.slice(0, len(values) - 1), values.slice(1))).as_py())


def writer_options(schema: pa.Schema) -> dict:
    """The options of every pyarrow write (the pandas layer's tables). Min/max statistics for
    numbers, dates and USUBJID (tables are in subject order: a reader skips row groups by
    subject), not for other text, dictionary-encoded or not: through pyarrow, comparing every
    string took ~0.3 s of a 1.1 s write of 3 million RS records."""
    stats = [f.name for f in schema if f.name == "USUBJID" or not (_is_text(f) or pa.types.is_dictionary(f.type))]
    return {"compression": "zstd", "use_dictionary": True, "write_statistics": stats}


def _is_text(field: pa.Field) -> bool:
    return pa.types.is_string(field.type) or pa.types.is_large_string(field.type)


def with_metadata(schema: pa.Schema, metadata: dict | None) -> pa.Schema:
    """schema carrying `metadata` under 'regrowth.*' keys (replacing any it had)."""
    kv = {k: v for k, v in (schema.metadata or {}).items() if not k.startswith(b"regrowth.")}
    kv.update({k.encode(): v.encode() for k, v in regrowth_metadata(metadata).items()})
    return schema.with_metadata(kv)


def read_table(path, columns: list[str] | None = None, filters=None) -> pd.DataFrame:
    """A Parquet file, a dataset directory or a list of files as one pandas frame.
    filters: pyarrow row filters (e.g. [("PARAMCD", "==", "SALT")]), applied while reading."""
    return plain_text(_read_arrow(path, columns, filters)).to_pandas()


def _read_file(path: Path, columns: list[str] | None, filters) -> pa.Table:
    schema = pq.read_schema(path) if columns is not None or filters is not None else None
    if columns is not None and (missing := [c for c in columns if c not in schema.names]):
        raise ContractError(f"{Path(path).name}: column(s) missing: {', '.join(missing)}")
    if filters is None:
        return pq.read_table(path, columns=columns)
    # Text stays dictionary-encoded until the filter has dropped rows: reading ADSALT's total
    # records of 200,000 subjects took 1.5 s decoding every region's text, 0.8 s this way. Row
    # group by row group, only the kept rows pile up: 0.3 GB less memory, a third of the time.
    text = [f.name for f in schema if (columns is None or f.name in columns) and _is_text(f)]
    source = pq.ParquetFile(path, read_dictionary=text)
    keep = pq.filters_to_expression(filters)
    # a file without rows has nothing to filter (and the filter may not fit its types: an empty
    # summary table is all text)
    groups = range(source.num_row_groups) if source.metadata.num_rows else []
    pieces = [source.read_row_group(i, columns=columns).filter(keep) for i in groups]
    if not pieces:  # no rows, or no row groups
        empty = source.schema_arrow.empty_table()
        pieces = [empty if columns is None else empty.select(columns)]
    table = pa.concat_tables(pieces)
    return table.cast(pa.schema([schema.field(n) for n in table.column_names], metadata=table.schema.metadata))


def plain_text(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded to their values: the pandas layer (summaries, report) sees
    text as text, whichever engine wrote the file."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    fields = [pa.field(f.name, f.type.value_type, f.nullable, f.metadata) if pa.types.is_dictionary(f.type) else f
              for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def as_pandas(frame) -> pd.DataFrame:
    """A polars frame as read_table would give it back after write_frame (for in-process runs)."""
    return plain_text(frame.to_arrow()).to_pandas()


def read_metadata(path: str | os.PathLike) -> dict:
    kv = pq.read_metadata(path).metadata or {}  # the file's key-value metadata (whichever engine wrote it)
    return {
        k.decode()[len("regrowth.") :]: json.loads(v)
        for k, v in kv.items()
        if k.decode().startswith("regrowth.")
    }
