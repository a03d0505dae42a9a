"""Split a large SDTM or Dataset-JSON export by subject into partitions that run as separate jobs.

Subjects are cut into contiguous blocks of the sorted DM USUBJIDs, so every partition holds
whole subjects (all their rows in every dataset) and at least one DM subject. Rows whose
subject is not in DM go to the block their USUBJID sorts into (validation still reports them);
rows without a USUBJID go to the first partition. Each row keeps its source file and row
number, so issues, quarantine and accounting still point into the original export.

CSV files the fast reader accepts are streamed batch by batch, XPORT files chunk by chunk of
records and Dataset-JSON's NDJSON files (the standard's form for large datasets) chunk by chunk of
lines: memory is bounded by the batch size and the number of partitions. DM (needed whole to cut
the blocks), CSV files needing the careful reader, XPORT and NDJSON files without records and
Dataset-JSON's .json files (one JSON document: no row can be read before the whole file is) are
read whole and then split.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from regrowth.errors import InputError
from regrowth.hashing import sha256_file
from regrowth.ingest.common import file_record
from regrowth.ingest.dataset_json import dataset_frame, read_ndjson_chunks
from regrowth.ingest.sdtm import (ARROW_REFUSALS, _read, dataset_names, fast_csv, lines_are_rows,
                                  read_xpt_chunks, xpt_cp1252_notice)
from regrowth.issues import issues_frame
from regrowth.partition import SPLITTABLE, dataset_files, part_names, part_path

BATCH_BYTES = 1 << 24  # CSV read block: ~16 MB of text per batch
XPT_CHUNK_ROWS = 250_000  # XPORT records per chunk: ~100 MB as a pandas frame
NDJSON_CHUNK_ROWS = 100_000  # NDJSON lines per chunk: ~100 MB as Python lists, then a frame
T = TypeVar("T")
_END = object()


_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def read_part(parts_dir: str | Path, part: str, role: str) -> pd.DataFrame:
    """One dataset of one partition, as the split wrote it."""
    with pa.memory_map(str(part_path(parts_dir, part, role))) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def subject_blocks(dm_usubjid: pd.Series, n_parts: int) -> np.ndarray:
    """The first USUBJID of each partition: n_parts blocks of the sorted distinct DM subjects."""
    ids = np.sort(dm_usubjid.astype("str").str.strip().replace("", None).dropna().unique().astype(object))
    if len(ids) < n_parts:
        raise InputError(f"DM lists {len(ids)} subject(s): too few for {n_parts} partitions "
                         "(lower the trial's `partitions`)")
    return ids[[k * len(ids) // n_parts for k in range(n_parts)]]


def assign_parts(usubjid, blocks: np.ndarray) -> np.ndarray:
    """Partition index of each row (no USUBJID: partition 0). usubjid: Arrow or pandas text."""
    text = usubjid if isinstance(usubjid, (pa.Array, pa.ChunkedArray)) else pa.array(usubjid, from_pandas=True)
    if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    ids = pc.utf8_trim_whitespace(text)
    if len(ids) and not ids.null_count and pc.all(pc.greater(pc.utf8_length(ids), 0)).as_py():
        # a batch of an export in subject order: its lowest and highest subject in one block
        bounds = pc.min_max(ids)
        low, high = _block_of(blocks, [bounds["min"].as_py(), bounds["max"].as_py()])
        if low == high:
            return np.full(len(ids), low, dtype=np.int64)
    encoded = pc.dictionary_encode(ids).combine_chunks() if isinstance(ids, pa.ChunkedArray) else pc.dictionary_encode(ids)
    uniques = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
    parts = _block_of(blocks, uniques)[codes] if len(uniques) else np.zeros(len(ids), dtype=np.int64)
    missing = pc.or_kleene(pc.is_null(ids), pc.equal(ids, "")).fill_null(True)
    parts[missing.to_numpy(zero_copy_only=False)] = 0
    return parts


def _block_of(blocks: np.ndarray, ids) -> np.ndarray:
    """The block each id sorts into (before the first block: the first)."""
    found = np.searchsorted(blocks, np.asarray(ids, dtype=object), side="right") - 1
    return np.clip(found, 0, len(blocks) - 1).astype(np.int64)


class _PartWriters:
    """One IPC file writer per partition for one dataset; every partition gets a file. Rows go
    to the partition of their subject (`blocks`). Writes run in a thread, one batch behind the
    caller, so the next batch is parsed meanwhile."""

    def __init__(self, outdir: Path, role: str, blocks: np.ndarray):
        self.paths = [part_path(outdir, name, role) for name in part_names(len(blocks))]
        self.blocks = blocks
        self._start()

    def _start(self) -> None:
        self.writers: list[pa.ipc.RecordBatchFileWriter | None] = [None] * len(self.paths)
        self.schema: pa.Schema | None = None
        self.rows = 0  # written so far
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._pending: Future | None = None

    def restart(self) -> None:
        """Drop what was written (the file is read again from its start): every part rewritten."""
        self.abandon()
        self._start()

    def write_batch(self, table: pa.Table, file: str) -> None:
        """A batch read from `file`: source row numbers follow on from the rows written so far,
        and every batch takes the first one's types."""
        table = _with_source(table, file, self.rows + 1)
        self.write(table if self.schema is None else table.cast(self.schema))

    def write(self, table: pa.Table) -> None:
        self.schema = self.schema or table.schema
        parts = _parts_of(table, self.blocks)
        pieces = []
        present = np.flatnonzero(np.bincount(parts, minlength=len(self.paths)))
        for k in present:
            if self.writers[k] is None:
                self.paths[k].parent.mkdir(parents=True, exist_ok=True)
                self.writers[k] = pa.ipc.new_file(str(self.paths[k]), table.schema, options=_IPC_OPTIONS)
            # an export in subject order sends most batches whole to one partition
            pieces.append((self.writers[k], table if len(present) == 1 else table.filter(pa.array(parts == k))))
        self._wait()
        self._pending = self._thread.submit(lambda: [w.write_table(piece) for w, piece in pieces])
        self.rows += table.num_rows

    def _wait(self) -> None:
        """The previous batch written (its error raised here)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def abandon(self) -> None:
        """Close what was written so far, for restart()."""
        try:
            self._wait()
        finally:
            self._thread.shutdown()
            for w in self.writers:
                if w is not None:
                    w.close()

    def close(self) -> None:
        self._wait()
        self._thread.shutdown()
        for k, w in enumerate(self.writers):
            if w is not None:
                w.close()
            else:  # no rows of this dataset in this partition
                self.paths[k].parent.mkdir(parents=True, exist_ok=True)
                pa.ipc.new_file(str(self.paths[k]), self.schema, options=_IPC_OPTIONS).close()


def _parts_of(table: pa.Table, blocks: np.ndarray) -> np.ndarray:
    """Partition of each row; a dataset without USUBJID goes whole to the first partition."""
    if "USUBJID" not in table.column_names:
        return np.zeros(table.num_rows, dtype=np.int64)
    return assign_parts(table.column("USUBJID"), blocks)


def _with_source(table: pa.Table, file: str, first_row: int) -> pa.Table:
    n = table.num_rows
    table = table.add_column(0, "SRCROW", pa.array(np.arange(first_row, first_row + n, dtype=np.int64)))
    return table.add_column(0, "SRCFILE", repeated_text(file, n))


def repeated_text(value: str, n: int) -> pa.Array:
    """`value` n times, built from its buffers: from a list of n Python strings it took ~1 s per
    13 million rows."""
    data = value.encode()
    if n * len(data) >= 2**31:  # beyond a string array's 32-bit offsets
        return pa.array([value] * n, type=pa.string())
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(data))
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def _stream_csv(path: Path, writers: _PartWriters, issues: list[dict], reading=None) -> int | None:
    """Rows written, or None if the file needs the careful reader (nothing usable written).
    The file's dialect (missing values, decimal mark, row index: regrowth.ingest.csv_dialect)
    converts batch by batch as a whole read converts the file, and refuses or notes at the end
    what a whole read would; a first column without a name that turns out to be no row index
    is left to the whole read (which reports it)."""
    plan = fast_csv(path, BATCH_BYTES, reading, dialect=True)
    if plan is None:
        return None
    columns = dataset_names(plan.dialect.kept_names)
    writers.schema = pa.schema([("SRCFILE", pa.string()), ("SRCROW", pa.int64())]
                               + [(c, pa.string()) for c in columns])  # also for a header-only file
    try:
        for batch in read_ahead(pa_csv.open_csv(path, **plan.options)):
            if plan.ragged:
                return None
            table = plan.dialect.apply(pa.Table.from_batches([batch]), writers.rows + 1)
            if table is None:
                return None
            writers.write_batch(table.rename_columns(columns), path.name)
    except ARROW_REFUSALS:
        return None
    # rows that are not lines (blank lines, quoted line breaks): the careful reader records them
    if plan.ragged or not lines_are_rows(path, writers.rows):
        return None
    plan.dialect.finish(issues)
    return writers.rows


def read_ahead(batches: Iterable[T]) -> Iterator[T]:
    """The items of `batches`, the next one read in a thread while the caller handles this one:
    the CSV reader and the part writers release the GIL, so on two cores they overlap
    (a 200,000-subject export: 15 s read-then-write). A reader error is raised to the caller."""
    items = iter(batches)
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(next, items, _END)
        while (item := pending.result()) is not _END:
            pending = reader.submit(next, items, _END)
            yield item


def _stream_xpt(path: Path, writers: _PartWriters, issues: list[dict]) -> int | None:
    """Rows written, XPT_CHUNK_ROWS records at a time; None for a file without records (read
    whole). Text that is not UTF-8 is read again from the start as cp1252, as read_xpt does."""
    try:
        return _write_xpt_chunks(path, writers, None)
    except UnicodeDecodeError:
        writers.restart()
    try:
        rows = _write_xpt_chunks(path, writers, "cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
    if rows is not None:
        issues.append(xpt_cp1252_notice(path))
    return rows


def _write_xpt_chunks(path: Path, writers: _PartWriters, encoding: str | None) -> int | None:
    for chunk in read_xpt_chunks(path, XPT_CHUNK_ROWS, encoding):
        writers.write_batch(pa.Table.from_pandas(chunk, preserve_index=False), path.name)
    return writers.rows or None


def _stream_ndjson(path: Path, writers: _PartWriters) -> int | None:
    """Rows written, NDJSON_CHUNK_ROWS lines at a time; None for a .json file or one without
    records (read whole). A broken file raises the whole read's error, midway or at the end."""
    if path.suffix.lower() != ".ndjson":
        return None
    for chunk in read_ndjson_chunks(path, NDJSON_CHUNK_ROWS):
        writers.write_batch(pa.Table.from_pandas(chunk, preserve_index=False), path.name)
    return writers.rows or None


def _stream(path: Path, fmt: str, writers: _PartWriters, issues: list[dict], reading=None) -> int | None:
    """Rows written by streaming the file, or None where it is to be read whole."""
    if fmt == "sdtm-csv":
        return _stream_csv(path, writers, issues, reading)
    if fmt == "sdtm-xpt":
        return _stream_xpt(path, writers, issues)
    return _stream_ndjson(path, writers)


def _read_whole(path: Path, fmt: str, issues: list[dict], reading=None) -> pd.DataFrame:
    """The file as its format's ingest reads it, with its source columns."""
    return dataset_frame(path) if fmt == "dataset-json" else _read(path, fmt, issues, reading)


def split_export(folder: str | Path, fmt: str, n_parts: int, outdir: str | Path,
                 reading=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write outdir/<part>/<dataset>.arrow for every partition and dataset of the export;
    return the export's file records (whole-file rows_in, sha256) and read notices."""
    folder, outdir = Path(folder), Path(outdir)
    if fmt not in SPLITTABLE:
        raise InputError(f"{folder}: only {', '.join(SPLITTABLE)} exports can be split, not {fmt}")
    files = dataset_files(folder, fmt)
    if "dm" not in files:
        raise InputError(f"{folder}: no DM dataset: subjects cannot be assigned to partitions")
    issues: list[dict] = []
    dm = _read_whole(files["dm"], fmt, issues, reading)
    if "USUBJID" not in dm.columns:
        raise InputError(f"{files['dm']}: DM has no USUBJID: subjects cannot be assigned to partitions")
    blocks = subject_blocks(dm["USUBJID"], n_parts)
    records = []
    # the files' sha256 in a thread while they are split (hashlib releases the GIL; cached per process)
    with ThreadPoolExecutor(max_workers=1) as hashing:
        for path in files.values():
            hashing.submit(sha256_file, path)
        for role, path in files.items():
            writers = _PartWriters(outdir, role, blocks)
            rows = None
            if role != "dm":  # DM is in memory already
                rows = _stream(path, fmt, writers, issues, reading)
            if rows is None:  # read whole (raises the careful reader's error for a broken file)
                writers.restart()
                frame = dm if role == "dm" else _read_whole(path, fmt, issues, reading)  # carries its source columns
                writers.write(pa.Table.from_pandas(frame, preserve_index=False))
                rows = writers.rows
            writers.close()
            records.append((path, rows, role.upper()))
    return pd.DataFrame([file_record(path, fmt, rows, role) for path, rows, role in records]), issues_frame(issues)
