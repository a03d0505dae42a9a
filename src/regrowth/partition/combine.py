"""Recombine a trial processed in partitions into the tables an unsplit run writes.

Partitions are blocks of sorted subjects, and every per-subject table is ordered by subject
first (model.ROW_ORDER, derive.ORDER), so a combined table is its parts written one after
the other: their bytes joined without decoding (parquet_append), or, when their columns
differ, streamed one part at a time. The subject order across part boundaries is checked, so
a part out of place fails loudly instead of reordering rows. Small tables not
ordered by subject (unmapped rows, issues) are concatenated and sorted. Trial-level issues
that every partition reports (a variable missing from a file) are listed once. Accounting adds
the parts up and checks them against the whole files: a row lost between split and combine fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regrowth.errors import ContractError
from regrowth.frames import sort_rows
from regrowth.issues import issues_frame, sort_issues
from regrowth.model import column_order
from regrowth.parquet_append import join_files
from regrowth.parquet_io import read_table, with_metadata, writer_options
from regrowth.validate.gate import ACCOUNTING_COLUMNS


BATCH_ROWS = 1 << 20  # rows in memory per table at a time (and per row group written)


def check_subject_order(paths: list[str]) -> None:
    """Fails if a part's subjects do not all sort after the previous part's (a subject split over
    two parts, or parts out of order), or if rows without USUBJID appear anywhere but at the
    start of the first part. Reads only USUBJID, dictionary-encoded."""
    last = None
    for k, path in enumerate(paths):
        if "USUBJID" not in pq.read_schema(path).names:
            continue
        subjects = pq.read_table(path, columns=["USUBJID"], read_dictionary=["USUBJID"]).column("USUBJID")
        missing = subjects.null_count
        if missing and (k > 0 or subjects.slice(0, missing).null_count != missing):
            raise ContractError(f"{path}: rows without USUBJID outside the first partition's start")
        valid = subjects.drop_null()
        if not len(valid):
            continue
        first = valid[0].as_py()
        if last is not None and first <= last:
            raise ContractError(f"{path}: subject {first!r} does not sort after the previous partition's "
                                f"last subject {last!r}")
        last = valid[-1].as_py()


def concat_parts(paths: list[str], out: str | os.PathLike, metadata: dict | None = None,
                 domain: str | None = None) -> int:
    """Write the parts (each ordered by USUBJID first) one after the other into `out`; rows written.

    Parts with the same schema are joined as they are (parquet_append: no decoding). A column
    only some parts have (a SUPPxx qualifier no subject of a part carries) is null in the others
    and takes its canonical place (model.column_order for an SDTM `domain`): those parts are
    decoded and written again, one batch at a time. check_subject_order runs first either way.
    """
    check_subject_order(paths)
    schemas = [pq.read_schema(p) for p in paths]
    union = pa.unify_schemas(schemas, promote_options="permissive")
    names = column_order(union.names, domain) if domain else union.names
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if names == schemas[0].names:
        rows = join_files(paths, out, metadata)
        if rows is not None:
            return rows
    widest = max(schemas, key=len)  # its pandas metadata describes every column
    schema = with_metadata(pa.schema([union.field(n) for n in names], metadata=widest.metadata), metadata)
    tmp = out.with_name(out.name + ".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema, **writer_options(schema)) as writer:
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
                table = pa.Table.from_batches([batch])
                for field in schema:
                    if field.name not in table.column_names:
                        table = table.append_column(field, pa.nulls(table.num_rows, field.type))
                writer.write_table(table.select(schema.names).cast(schema))
                rows += table.num_rows
    os.replace(tmp, out)
    return rows


def combine_sorted(paths: list[str], order: list[str]) -> pd.DataFrame:
    """Small tables: parts concatenated and stably sorted by `order`."""
    return sort_rows(pd.concat([read_table(p) for p in paths], ignore_index=True), order)


def combine_issues(parts: list[pd.DataFrame]) -> pd.DataFrame:
    issues = pd.concat(parts, ignore_index=True) if parts else issues_frame()
    trial_level = issues["row"].isna()
    once = issues[trial_level].drop_duplicates()
    return sort_issues(issues_frame(pd.concat([issues[~trial_level], once]).to_dict("records")))


def combine_accounting(parts: list[pd.DataFrame], files: pd.DataFrame) -> pd.DataFrame:
    """Per export file, the parts' rows added up; they must make up the whole file."""
    total = pd.concat(parts).groupby("file", sort=False)[ACCOUNTING_COLUMNS[1:]].sum()
    rows = []
    for rec in files.to_dict("records"):
        if rec["file"] not in total.index:
            continue  # a metadata file: no records to account for
        got = total.loc[rec["file"]]
        if int(got["rows_in"]) != int(rec["rows_in"]):
            raise ContractError(f"{rec['file']}: partitions account for {int(got['rows_in'])} rows, "
                                f"the file has {int(rec['rows_in'])} (rows lost or doubled in the split)")
        rows.append({"file": rec["file"], **{c: int(got[c]) for c in ACCOUNTING_COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
