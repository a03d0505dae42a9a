"""The trial sheet (config/trials.tsv): one row per trial, read as plain dicts.

Read by Snakemake while it parses the workflow. Plain dicts keep each cell as written: a
DataFrame turned an integer column with one blank cell into floats (eot_week 24.0).
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from difflib import get_close_matches
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

INTEGER_COLUMNS = ("eot_week", "partitions")
YES_NO = {"yes": True, "true": True, "no": False, "false": False}


def read_sheet(path: str | Path, columns: Collection[str]) -> list[tuple[int, dict[str, str]]]:
    """Each row's line number and cells (stripped text, "" for an empty or absent cell); lines
    starting with '#' are comments. Errors: a header name not among `columns` (a misspelt
    eot_week would silently lose the planned week), a column named twice, a row with more cells
    than the header, a filled cell under an unnamed column, and an unclosed quote (which would
    take in every later line as one cell). Empty unnamed columns (trailing tabs) are ignored."""
    lines = []  # (the line a row starts on, its cells)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t", strict=True)
            start = 1
            for row in reader:
                if row and not row[0].lstrip().startswith("#"):
                    lines.append((start, row))
                start = reader.line_num + 1
    except csv.Error as exc:
        raise ValueError(f"{path}, line {start}: not a readable tab-separated row ({exc}); a cell that "
                         "starts with a quote must end with one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable tab-separated trial sheet: {exc}") from None
    if not lines:
        raise ValueError(f"{path}: the trial sheet is empty")
    header_line, header = lines[0][0], [h.strip() for h in lines[0][1]]
    for name in header:
        if name and name not in columns:
            close = get_close_matches(name, columns, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(f"{path}, line {header_line}: column {name} is not a trial sheet column ({hint}the "
                             f"columns are {', '.join(columns)}); rename or remove it")
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise ValueError(f"{path}, line {header_line}: column {', '.join(twice)} named more than once in the header")
    out = []
    for n, row in lines[1:]:
        if len(row) > len(header):
            raise ValueError(f"{path}, line {n}: {len(row)} tab-separated cells, the header names {len(header)}")
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        unnamed = [c for h, c in zip(header, cells) if not h and c]
        if unnamed:
            raise ValueError(f"{path}, line {n}: cell {unnamed[0]!r} is under a column with no name in the header; "
                             "name the column or remove the cell")
        out.append((n, {h: c for h, c in zip(header, cells) if h}))
    return out


def row_validator(schema_path: str | Path) -> Draft202012Validator:
    """One compiled validator for every row (snakemake.utils.validate compiles per call)."""
    return Draft202012Validator(yaml.safe_load(Path(schema_path).read_text()))


def load_trials(path: str | Path, validator: Draft202012Validator) -> dict[str, dict]:
    """The sheet's trials by trial_id, in sheet order. A row keeps only its non-empty cells;
    eot_week and partitions are integers where they are digits, simulated a bool where it is a
    yes/no word (anything else is left for the schema to reject, naming the line)."""
    trials: dict[str, dict] = {}
    repeated: list[str] = []
    for n, cells in read_sheet(path, list(validator.schema["properties"])):
        row: dict = {k: v for k, v in cells.items() if v != ""}
        for col in INTEGER_COLUMNS:
            if col in row and row[col].isdecimal() and row[col].isascii():
                row[col] = int(row[col])
        if "simulated" in row:
            row["simulated"] = YES_NO.get(row["simulated"].lower(), row["simulated"])
        error = best_match(validator.iter_errors(row))
        if error is not None:
            column = f" (column {error.path[0]})" if error.path else ""
            raise ValueError(f"{path}, line {n}: invalid trial row{column}: {error.message}")
        if row["trial_id"] in trials:
            repeated.append(row["trial_id"])
        trials.setdefault(row["trial_id"], row)
    if not trials:
        raise ValueError(f"{path}: the trial sheet lists no trials")
    if repeated:
        raise ValueError(f"{path}: trial_id listed more than once: {', '.join(repeated)}")
    return trials
