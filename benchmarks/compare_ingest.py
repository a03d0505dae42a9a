"""Ingest of two checkouts compared table by table, column by column (issue #23: the polars port
must give today's tables by value).

    # each checkout writes what its ingest_trial gives, with its own writer
    PYTHONPATH=OLD/src python benchmarks/compare_ingest.py dump OUT/old LIST
    PYTHONPATH=NEW/src python benchmarks/compare_ingest.py dump OUT/new LIST
    python benchmarks/compare_ingest.py compare OUT/old OUT/new

LIST is a TSV file of name, folder, format (one export a line). An export that does not read
writes its error message instead, and the two messages are compared. Tables are compared as
the pandas stages read them back (parquet_io.read_table: dictionary columns as text): the same
columns in the same order, the same rows in the same order, each value equal (null where null,
floats bit for bit), and each column's Arrow type the same except text as dictionary.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def dump(out: Path, listing: Path) -> None:
    from regrowth.errors import InputError
    from regrowth.ingest import ingest_trial
    from regrowth.parquet_io import write_table

    for line in listing.read_text().splitlines():
        name, folder, fmt = line.split("\t")
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            got = ingest_trial(folder, fmt)
        except InputError as exc:
            (target / "error.txt").write_text(str(exc))
            continue
        seconds = time.perf_counter() - start
        tables = {**got.tables, "files": got.files, "issues": got.issues, "unmapped": got.unmapped,
                  "links": got.links}
        for table_name, table in tables.items():
            if hasattr(table, "to_arrow"):  # a polars frame
                from regrowth.parquet_io import write_frame

                write_frame(table, target / f"{table_name}.parquet", {})
            else:
                write_table(table, target / f"{table_name}.parquet", {})
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        (target / "run.json").write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))


def _text_like(t) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def compare_table(old: Path, new: Path) -> list[str]:
    import numpy as np
    import pyarrow.parquet as pq

    from regrowth.parquet_io import read_table

    problems = []
    old_schema, new_schema = pq.read_schema(old), pq.read_schema(new)
    if old_schema.names != new_schema.names:
        return [f"columns differ: {old_schema.names} vs {new_schema.names}"]
    for field in old_schema:
        other = new_schema.field(field.name)
        if field.type != other.type and not (_text_like(field.type) and _text_like(other.type)):
            if not (field.type == "null" or other.type == "null"):
                problems.append(f"{field.name}: type {field.type} vs {other.type}")
    a, b = read_table(old), read_table(new)
    if len(a) != len(b):
        return problems + [f"rows differ: {len(a)} vs {len(b)}"]
    for col in a.columns:
        x, y = a[col].to_numpy(dtype=object), b[col].to_numpy(dtype=object)
        null_x, null_y = a[col].isna().to_numpy(dtype=bool), b[col].isna().to_numpy(dtype=bool)
        both = ~null_x & ~null_y
        unequal = np.zeros(len(x), dtype=bool)
        unequal[both] = [bool(p != q) for p, q in zip(x[both], y[both])]
        differ = (null_x != null_y) | unequal
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            problems.append(f"{col}: {int(differ.sum())} value(s) differ, first at row {i}: {x[i]!r} vs {y[i]!r}")
    return problems


def compare(old_root: Path, new_root: Path) -> int:
    failures = 0
    for old in sorted(p for p in old_root.iterdir() if p.is_dir()):
        new = new_root / old.name
        if not new.is_dir():
            print(f"{old.name}: not in {new_root}")
            failures += 1
            continue
        problems = []
        if (old / "error.txt").exists() or (new / "error.txt").exists():
            said = [(d / "error.txt").read_text() if (d / "error.txt").exists() else "(read)" for d in (old, new)]
            problems = [] if said[0] == said[1] else [f"error differs: {said[0]!r} vs {said[1]!r}"]
            tables = 0
        else:
            names = sorted(p.name for p in old.glob("*.parquet"))
            if names != sorted(p.name for p in new.glob("*.parquet")):
                problems.append("tables differ")
            for name in names:
                problems += [f"{name}: {p}" for p in compare_table(old / name, new / name)]
            tables = len(names)
        failures += bool(problems)
        print(f"{old.name}: {'same' if not problems else 'DIFFERENT'} ({tables} tables)")
        for p in problems:
            print(f"    {p}")
    return failures


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(1 if compare(Path(sys.argv[2]), Path(sys.argv[3])) else 0)
