"""SDTM datasets from any sponsor, one file per domain, as SAS XPORT (.xpt) or CSV.

Handles what real deliveries carry: file names in any case, empty strings for missing, CSV
with a BOM, CRLF or ';' / tab delimiters, latin-1/cp1252 text (read, with a notice), SALT in
QS instead of RS, and SUPPxx qualifiers (merged onto their parent records as extra columns).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyreadstat

from regrowth.errors import InputError
from regrowth.frames import ARROW_REFUSALS, blank_to_null
from regrowth.ingest.common import file_record, require_file, type_columns
from regrowth.model import DOMAINS, SALT_TESTS

EXTENSIONS = {"sdtm-xpt": ".xpt", "sdtm-csv": ".csv"}
DELIMITERS = [",", ";", "\t", "|"]
QS_TO_RS = {"QSSEQ": "RSSEQ", "QSCAT": "RSCAT", "QSTESTCD": "RSTESTCD", "QSTEST": "RSTEST", "QSORRES": "RSORRES",
            "QSORRESU": "RSORRESU", "QSSTRESC": "RSSTRESC", "QSSTRESN": "RSSTRESN", "QSSTRESU": "RSSTRESU",
            "QSDRVFL": "RSDRVFL", "QSDTC": "RSDTC"}


def _role(stem: str) -> str | None:
    """What a file is by its name: a canonical domain, 'qs', or 'supp<domain>'."""
    if stem in DOMAINS or stem == "qs":
        return stem
    if stem.startswith("supp") and stem[4:] in DOMAINS:
        return stem
    return None


def find_domain_files(folder: Path, fmt: str) -> dict[str, Path]:
    """Map dataset (dm, ..., qs, suppae) -> file, matching names case-insensitively."""
    ext = EXTENSIONS[fmt]
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        role = _role(path.stem.lower())
        if path.suffix.lower() != ext or role is None:
            continue
        if role in found:
            raise InputError(f"{folder}: two files for dataset {role.upper()}: {found[role].name}, {path.name}")
        found[role] = path
    return found


def _issue(path: Path, column, message: str, rule: str = "RG0005") -> dict:
    return {"rule_id": rule, "severity": "notice", "dataset": path.stem.upper(), "file": path.name,
            "usubjid": None, "row": None, "column": column, "value": None, "message": message}


def _notice(issues: list[dict], path: Path, column, message: str, rule: str = "RG0005") -> None:
    issues.append(_issue(path, column, message, rule))


def xpt_cp1252_notice(path: Path) -> dict:
    return _issue(path, None, "text is not UTF-8; read as cp1252 (Windows Latin-1)")


def read_xpt(path: Path, issues: list[dict]) -> pd.DataFrame:
    # pyreadstat, not pandas.read_sas: pandas turns some stored zeros into 5.4e-79.
    try:
        df, _meta = pyreadstat.read_xport(str(path))
    except UnicodeDecodeError:
        try:
            df, _meta = pyreadstat.read_xport(str(path), encoding="cp1252")
        except Exception as exc:
            raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
        issues.append(xpt_cp1252_notice(path))
    except Exception as exc:  # pyreadstat raises its own error types for corrupt files
        raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
    return df


def read_xpt_chunks(path: Path, rows: int, encoding: str | None = None) -> Iterator[pd.DataFrame]:
    """An XPORT file `rows` records at a time, variables named as SDTM spells them: memory
    bounded by the chunk. Text that does not decode raises UnicodeDecodeError (the caller starts
    again with encoding="cp1252", as read_xpt does); any other failure is an InputError."""
    try:
        for df, _meta in pyreadstat.read_file_in_chunks(pyreadstat.read_xport, str(path), chunksize=rows,
                                                        encoding=encoding):
            df.columns = dataset_names(df.columns)
            yield df
    except UnicodeDecodeError:
        raise
    except Exception as exc:  # pyreadstat raises its own error types for corrupt files
        raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None


def decode_text(path: Path, issues: list[dict]) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark (Excel's 'Unicode text')
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: starts as UTF-16 but does not decode ({exc.reason})") from None
        _notice(issues, path, None, "text is UTF-16, not UTF-8; read as UTF-16")
        return text
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: binary content (NUL bytes), not a CSV text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _notice(issues, path, None, f"text is not UTF-8 ({where}); read as {encoding}")
        return text
    raise InputError(f"{path}: text encoding not recognised")  # latin-1 decodes anything: unreachable


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _check_header(path: Path, columns) -> None:
    names = [str(c).strip() for c in columns]
    blank = [i + 1 for i, c in enumerate(names) if c == "" or c.startswith("Unnamed: ")]
    if blank:
        raise InputError(f"{path}: blank column name(s) at position {', '.join(map(str, blank))}")
    upper = [c.upper() for c in names]
    dups = sorted({c for c in upper if upper.count(c) > 1})
    if dups:
        raise InputError(f"{path}: duplicate column name(s): {', '.join(dups)}")


def _sniff_header(path: Path):
    """Header, delimiter and reader options for the fast path, or None if only the careful path
    can tell what this file is (UTF-16, NUL bytes, not UTF-8, no newline early on, blank header)."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head or b"\n" not in head:
        return None
    try:
        header = head.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        return None
    if not header.strip():
        return None
    delimiter = sniff_delimiter(header)
    names = next(csv.reader([header], delimiter=delimiter))
    return names, delimiter


@dataclass
class FastCsv:
    """How pyarrow reads a CSV export, every column as text ('' stays ''). Rows whose field count
    differs from the header's are skipped into `ragged`: any there sends the file to the careful
    path, which reports them precisely."""

    names: list[str]
    options: dict
    ragged: list


def fast_csv(path: Path, block_size: int = 1 << 24) -> FastCsv | None:
    """The fast reader's plan for a file, or None if only the careful path can read it."""
    found = _sniff_header(path)
    if found is None:
        return None
    names, delimiter = found
    _check_header(path, names)
    ragged: list[object] = []

    def on_invalid_row(row):
        ragged.append(row)
        return "skip"

    options = {
        "read_options": pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size),
        "parse_options": pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid_row),
        "convert_options": pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    return FastCsv(names, options, ragged)


def lines_are_rows(path: Path, rows: int) -> bool:
    """True if data row n of the CSV file is its line n + 1 for every n: no blank line and no
    line break inside a quoted value before the last row (blank lines after it are fine).
    One pass counting line ends (numpy over a reused buffer: about the cost of reading the file
    from the page cache, ~0.2 s per 100 MB); any doubt (a lone CR, a long blank tail) answers
    False and the careful reader counts lines itself."""
    lf = cr = 0
    buf = bytearray(1 << 22)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while k := fh.readinto(buf):
            chunk = np.frombuffer(view[:k], dtype=np.uint8)
            lf += int(np.count_nonzero(chunk == 10))
            if buf.find(b"\r", 0, k) != -1:
                cr += int(np.count_nonzero(chunk == 13))
            del chunk  # the buffer is reused: no view may outlive this pass
        size = fh.seek(0, 2)
        fh.seek(max(0, size - (1 << 16)))
        tail = fh.read()
    if cr and cr != lf:  # CR line ends, or a CR inside a value
        return False
    ends_after_content = tail[len(tail.rstrip(b"\r\n")):].count(b"\n")
    return lf - ends_after_content + 1 == rows + 1  # header and data lines, through the last data line


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """pyarrow's multithreaded reader, every column as text. None when the file needs the careful
    csv-module path: any row whose field count differs from the header's, text that is not UTF-8,
    blank lines or line breaks inside quoted values (pyarrow skips the first and reads the second
    silently, so row n would not be line n + 1), or anything else pyarrow refuses; that path then
    reports it precisely and records each row's line."""
    plan = fast_csv(path)
    if plan is None:
        return None
    try:
        table = pa_csv.read_csv(path, **plan.options)
    except ARROW_REFUSALS:
        return None
    if plan.ragged or not lines_are_rows(path, table.num_rows):
        return None
    return table.to_pandas()


def read_csv(path: Path, issues: list[dict] | None = None) -> pd.DataFrame:
    """A CSV export, every column as text (see read_csv_lines)."""
    return read_csv_lines(path, issues)[0]


def read_csv_lines(path: Path, issues: list[dict] | None = None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A CSV export, every column as text, and the line each data row starts on (header = line 1)
    where that is not row + 1 for every row (blank lines, line breaks in quoted values), else None.
    Fast path first (see _read_csv_arrow); the careful path decodes by hand and checks every
    row's width, because pandas shifts ragged rows silently."""
    issues = [] if issues is None else issues
    fast = _read_csv_arrow(path)
    if fast is not None:
        return fast, None
    text = decode_text(path, issues)
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise InputError(f"{path}: no header line (file is empty or starts with a blank line)")
    delimiter = sniff_delimiter(header)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    rows, starts, before = [], [], 0
    try:
        for r in reader:
            if r:  # a blank line is no row (as pyarrow reads it), but it is a line
                rows.append(r)
                starts.append(before + 1)
            before = reader.line_num
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file (line {reader.line_num}: {exc})") from None
    width = len(rows[0])
    for n, r in enumerate(rows[1:], start=1):  # pandas would shift or cut ragged rows silently
        if len(r) != width:
            raise InputError(f"{path}: not a readable CSV file (data row {n}, line {starts[n]}, has {len(r)} "
                             f"fields, the header {width}; wrong delimiter or unquoted '{delimiter}' in a value?)")
    _check_header(path, rows[0])
    lines = np.asarray(starts[1:], dtype=np.int64)
    if not np.array_equal(lines, np.arange(2, len(rows) + 1)):
        found = lines
    else:
        found = None
    if len(rows) > 1:
        return pd.DataFrame(rows[1:], columns=rows[0], dtype="str"), found
    return pd.DataFrame(columns=rows[0], dtype="str"), None


def dataset_names(columns) -> list[str]:
    """Variable names as SDTM spells them: upper case, no surrounding blanks."""
    return [str(c).strip().upper() for c in columns]


def _read(path: Path, fmt: str, issues: list[dict]) -> pd.DataFrame:
    require_file(path, f"{path.stem.upper()} dataset")
    lines = None
    if fmt == "sdtm-xpt":
        raw = read_xpt(path, issues)
    else:
        raw, lines = read_csv_lines(path, issues)
    raw.columns = dataset_names(raw.columns)
    if lines is not None:  # only where data row n is not line n + 1 (issues then name the real line)
        raw.insert(0, "SRCLINE", lines)
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", path.name)
    return raw


def salt_from_qs(qs: pd.DataFrame, unmapped: list[dict]) -> pd.DataFrame:
    """SALT records found in QS, renamed to the RS convention (domain guide section 3).
    Other QS records are not analysed: they are listed in `unmapped`, not dropped."""
    is_salt = pd.Series(False, index=qs.index)
    if "QSTESTCD" in qs.columns:
        is_salt |= qs["QSTESTCD"].astype("str").str.upper().isin(list(SALT_TESTS)).fillna(False)
    if "QSCAT" in qs.columns:
        is_salt |= qs["QSCAT"].astype("str").str.upper().eq("SALT").fillna(False)
    for rec in qs.loc[~is_salt, ["SRCFILE", "SRCROW"]].to_dict("records"):
        unmapped.append({**rec, "rule_id": "RG0006", "reason": "QS record is not a SALT assessment; not analysed"})
    rs = qs[is_salt].rename(columns=QS_TO_RS)
    rs["DOMAIN"] = "RS"
    return rs


def merge_supp(parent: pd.DataFrame, supp: pd.DataFrame, supp_name: str,
               links: list[dict] | None = None, unmapped: list[dict] | None = None) -> pd.DataFrame:
    """Attach SUPPxx qualifiers (QNAM -> column with QVAL) to their parent records.

    links receives, for each qualifier row, the parent row it was merged onto (so the
    qualifier shares its parent's fate: accepted or quarantined); rows with no parent go to
    unmapped.
    """
    need = ["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"]
    missing = [c for c in need if c not in supp.columns]
    if missing:
        raise InputError(f"{supp_name}: not a supplemental qualifier dataset (missing {', '.join(missing)})")
    rows = supp[["SRCFILE", "SRCROW"]] if "SRCROW" in supp.columns else None
    supp = blank_to_null(supp[need])
    out = parent.copy()
    if rows is not None and links is not None and unmapped is not None:
        _link_supp(parent, supp, rows, links, unmapped)
    for idvar, group in supp.groupby(supp["IDVAR"].fillna(""), sort=True):
        wide = group.pivot_table(index=["USUBJID", "IDVARVAL"] if idvar else ["USUBJID"], columns="QNAM",
                                 values="QVAL", aggfunc="first")
        wide.columns = [c if c not in out.columns else f"SUPP_{c}" for c in wide.columns]
        if idvar:
            if idvar not in out.columns:
                raise InputError(f"{supp_name}: IDVAR {idvar} is not a variable of its parent dataset")
            key = _idvar_text(out[idvar])
            joined = wide.reindex(pd.MultiIndex.from_arrays([out["USUBJID"], key]))
        else:
            joined = wide.reindex(out["USUBJID"])
        for col in wide.columns:
            out[col] = joined[col].to_numpy()
    return out


def _idvar_text(values: pd.Series) -> pd.Series:
    """A parent variable as SUPPxx IDVARVAL writes it: numbers without a trailing .0, missing as ''."""
    return values.map(lambda v: "" if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)))


def _supp_key(df: pd.DataFrame, idvar: str) -> pd.Series:
    if not idvar:
        return df["USUBJID"].astype("str")
    if idvar not in df.columns:
        return pd.Series(None, index=df.index, dtype="str")
    return df["USUBJID"].astype("str") + "\0" + _idvar_text(df[idvar])


def _link_supp(parent, supp, rows, links, unmapped) -> None:
    parents_by_key = {}  # per IDVAR: parent key -> its (SRCFILE, SRCROW) records, computed once
    for i in supp.index:
        idvar = supp.at[i, "IDVAR"] if pd.notna(supp.at[i, "IDVAR"]) else ""
        if idvar not in parents_by_key:
            keyed = parent[["SRCFILE", "SRCROW"]].assign(_key=_supp_key(parent, idvar).to_numpy())
            parents_by_key[idvar] = {k: g[["SRCFILE", "SRCROW"]].to_dict("records")
                                     for k, g in keyed.dropna(subset=["_key"]).groupby("_key", sort=False)}
        key = str(supp.at[i, "USUBJID"]) + ("\0" + str(supp.at[i, "IDVARVAL"]) if idvar else "")
        matches = parents_by_key[idvar].get(key, [])
        src = {"SRCFILE": rows.at[i, "SRCFILE"], "SRCROW": rows.at[i, "SRCROW"]}
        if not matches:
            unmapped.append({**src, "rule_id": "RG0709", "reason": "SUPP record has no parent record"})
        for p in matches:
            links.append({**src, "PARENTFILE": p["SRCFILE"], "PARENTROW": p["SRCROW"]})


def ingest_sdtm(folder: Path, fmt: str) -> tuple["Assembled", list[dict], list[dict]]:
    files = find_domain_files(folder, fmt)
    if not any(role in DOMAINS for role in files):
        raise InputError(f"{folder}: no SDTM {EXTENSIONS[fmt]} datasets found (expected dm{EXTENSIONS[fmt]}, ...)")
    raw, records, issues = {}, [], []
    for role, path in files.items():
        raw[role] = _read(path, fmt, issues)
        records.append(file_record(path, fmt, len(raw[role]), role.upper()))
    return assemble_domains(raw, files, issues), records, issues


@dataclass
class Assembled:
    tables: dict[str, pd.DataFrame]
    unmapped: list[dict]  # source rows not carried into any canonical table, with the reason
    links: list[dict]  # source rows merged onto another row (SUPPxx onto their parents)


def assemble_domains(raw: dict[str, pd.DataFrame], files: dict[str, Path], issues: list[dict]) -> Assembled:
    """Datasets as read -> canonical domains: SALT from QS joins RS, SUPPxx join their parents,
    numeric variables typed (values that are not numbers reported)."""
    raw, unmapped, links = dict(raw), [], []
    if "qs" in raw:
        from_qs = salt_from_qs(raw.pop("qs"), unmapped)
        if len(from_qs):
            raw["rs"] = pd.concat([raw["rs"], from_qs], ignore_index=True) if "rs" in raw else from_qs
    for role in [r for r in raw if r.startswith("supp")]:
        supp = raw.pop(role)
        if role[4:] in raw:
            raw[role[4:]] = merge_supp(raw[role[4:]], supp, files[role].name, links, unmapped)
        else:
            unmapped += [{**r, "rule_id": "RG0709", "reason": f"SUPP record, but no {role[4:].upper()} dataset"}
                         for r in supp[["SRCFILE", "SRCROW"]].to_dict("records")]
    tables = {d: type_columns(df, d, df["SRCFILE"].iloc[0] if len(df) else "", issues) for d, df in raw.items()}
    return Assembled(tables, unmapped, links)
