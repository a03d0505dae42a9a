"""SDTM datasets from any sponsor, one file per domain, as SAS XPORT (.xpt) or CSV.

Handles what real deliveries carry: file names in any case, empty strings for missing, CSV
with a BOM, CRLF or ';' / tab delimiters, latin-1/cp1252 text (read, with a notice), the CSV
dialects of R, SAS, Excel and pandas (NA, '.', decimal commas, a row index: see
regrowth.ingest.csv_dialect), SALT in QS instead of RS, and SUPPxx qualifiers (merged onto their
parent records as extra columns).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from regrowth.errors import InputError
from regrowth.exports import EXTENSIONS, find_domain_files
from regrowth.ingest.common import (file_record, plain_columns, read_issue, require_file, trimmed_text, type_columns,
                                     with_source)
from regrowth.ingest.csv_dialect import CsvDialect, mark_tokens, quoted_header
from regrowth.model import DOMAINS, SALT_TESTS

# What pyarrow raises for input it will not take (the careful reader then decides)
ARROW_REFUSALS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)

DELIMITERS = [",", ";", "\t", "|"]
QS_TO_RS = {"QSSEQ": "RSSEQ", "QSCAT": "RSCAT", "QSTESTCD": "RSTESTCD", "QSTEST": "RSTEST", "QSORRES": "RSORRES",
            "QSORRESU": "RSORRESU", "QSSTRESC": "RSSTRESC", "QSSTRESN": "RSSTRESN", "QSSTRESU": "RSSTRESU",
            "QSDRVFL": "RSDRVFL", "QSDTC": "RSDTC"}


def _issue(path: Path, column, message: str, rule: str = "RG0005") -> dict:
    return read_issue(rule, path.stem.upper(), path.name, column, message)


def _notice(issues: list[dict], path: Path, column, message: str, rule: str = "RG0005") -> None:
    issues.append(_issue(path, column, message, rule))


def xpt_cp1252_notice(path: Path) -> dict:
    return _issue(path, None, "text is not UTF-8; read as cp1252 (Windows Latin-1)")


def read_xpt(path: Path, issues: list[dict]) -> pl.DataFrame:
    # pyreadstat, not pandas.read_sas: pandas turns some stored zeros into 5.4e-79.
    import pyreadstat

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
    return pl.from_pandas(df)  # NaN (SAS missing) as null


def read_xpt_chunks(path: Path, rows: int, encoding: str | None = None) -> Iterator["pd.DataFrame"]:
    """An XPORT file `rows` records at a time, variables named as SDTM spells them: memory
    bounded by the chunk. Text that does not decode raises UnicodeDecodeError (the caller starts
    again with encoding="cp1252", as read_xpt does); any other failure is an InputError.
    pandas frames, as pyreadstat gives them: the split (regrowth.partition.split) writes them."""
    import pyreadstat

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


def _check_header(path: Path, columns, index_ok: bool = False) -> None:
    """Names neither blank nor repeated. index_ok: a blank first name is let through (a row
    index, if its values say so: regrowth.ingest.csv_dialect)."""
    names = [str(c).strip() for c in columns]
    blank = [i + 1 for i, c in enumerate(names) if c == "" or c.startswith("Unnamed: ")]
    if blank and not (index_ok and blank == [1] and names[0] == ""):
        _blank_names(path, blank)
    upper = [c.upper() for c in names]
    dups = sorted({c for c in upper if upper.count(c) > 1})
    if dups:
        raise InputError(f"{path}: duplicate column name(s): {', '.join(dups)}")


def _blank_names(path: Path, blank: list[int]):
    hint = (" (a first column without a name is dropped as a row index only if it holds 0, 1, 2, ... as pandas "
            "writes it or 1, 2, 3, ... as R does; write the file without it: to_csv(index=False), "
            "write.csv(row.names=FALSE))") if blank[0] == 1 else ""
    raise InputError(f"{path}: blank column name(s) at position {', '.join(map(str, blank))}{hint}")


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
    return names, delimiter, header


@dataclass
class FastCsv:
    """How pyarrow reads a CSV export, every column as text ('' stays ''). Rows whose field count
    differs from the header's are skipped into `ragged`: any there sends the file to the careful
    path, which reports them precisely."""

    names: list[str]
    options: dict
    ragged: list
    dialect: CsvDialect | None = None  # an SDTM file's missing values, decimal mark, row index


def fast_csv(path: Path, block_size: int = 1 << 24, reading=None, dialect: bool = False) -> FastCsv | None:
    """The fast reader's plan for a file, or None if only the careful path can read it.
    dialect: read it as an SDTM dataset, by the trial's reading settings (regrowth.ingest.csv_dialect)."""
    found = _sniff_header(path)
    if found is None:
        return None
    names, delimiter, header = found
    _check_header(path, names, index_ok=dialect)
    plan = CsvDialect(path, names, delimiter, quoted_header(header, delimiter), reading) if dialect else None
    ragged: list[object] = []

    def on_invalid_row(row):
        ragged.append(row)
        return "skip"

    options = {
        "read_options": pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size),
        "parse_options": pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid_row),
        "convert_options": plan.convert_options() if plan else pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    return FastCsv(names, options, ragged, plan)


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


def _read_csv_arrow(path: Path, issues: list[dict] | None = None, reading=None,
                    dialect: bool = False) -> tuple[pl.DataFrame, set[str]] | None:
    """pyarrow's multithreaded reader, every column as text, and the columns trimming would not
    change (checked on the Arrow data: cheaper than on polars' string views). None when the file needs the careful
    csv-module path: any row whose field count differs from the header's, text that is not UTF-8,
    blank lines or line breaks inside quoted values (pyarrow skips the first and reads the second
    silently, so row n would not be line n + 1), or anything else pyarrow refuses; that path then
    reports it precisely and records each row's line. dialect: see fast_csv."""
    plan = fast_csv(path, reading=reading, dialect=dialect)
    if plan is None:
        return None
    try:
        table = pa_csv.read_csv(path, **plan.options)
    except ARROW_REFUSALS:
        return None
    if plan.ragged or not lines_are_rows(path, table.num_rows):
        return None
    if plan.dialect is not None:
        table = _in_dialect(path, plan.dialect, table, [] if issues is None else issues)
    plain = plain_columns(table)
    return pl.from_arrow(table, rechunk=False), plain  # one chunk per read block: no copy to join them


def _in_dialect(path: Path, dialect: CsvDialect, table: pa.Table, issues: list[dict]) -> pa.Table:
    """A whole file's table converted by its dialect, the file's notices added (or refused)."""
    converted = dialect.apply(table, 1)
    if converted is None:
        _blank_names(path, [1])
    dialect.finish(issues)
    return converted


def read_csv(path: Path, issues: list[dict] | None = None) -> pl.DataFrame:
    """A CSV export, every column as text (see read_csv_lines)."""
    return read_csv_lines(path, issues)[0]


def read_csv_lines(path: Path, issues: list[dict] | None = None) -> tuple[pl.DataFrame, np.ndarray | None]:
    """A CSV export, every column as text, and the line each data row starts on (header = line 1)
    where that is not row + 1 for every row (blank lines, line breaks in quoted values), else None.
    Fast path first (see _read_csv_arrow); the careful path decodes by hand and checks every
    row's width, because a lenient reader shifts ragged rows silently."""
    df, lines, _plain = _read_csv(path, [] if issues is None else issues)
    return df, lines


def _read_csv(path: Path, issues: list[dict], reading=None,
              dialect: bool = False) -> tuple[pl.DataFrame, np.ndarray | None, set[str]]:
    """read_csv_lines, and the columns known to need no trimming (the fast path's check).
    dialect: read as an SDTM dataset in the dialect of the tool that wrote it (missing values,
    decimal mark, row index: regrowth.ingest.csv_dialect), by the trial's reading settings
    (reading: regrowth.reading.Reading; None detects them)."""
    fast = _read_csv_arrow(path, issues, reading, dialect)
    if fast is not None:
        return fast[0], None, fast[1]
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
    for n, r in enumerate(rows[1:], start=1):  # a lenient reader would shift or cut ragged rows silently
        if len(r) != width:
            raise InputError(f"{path}: not a readable CSV file (data row {n}, line {starts[n]}, has {len(r)} "
                             f"fields, the header {width}; wrong delimiter or unquoted '{delimiter}' in a value?)")
    _check_header(path, rows[0], index_ok=dialect)
    lines = np.asarray(starts[1:], dtype=np.int64)
    found = None if np.array_equal(lines, np.arange(2, len(rows) + 1)) else lines
    columns = {name: [r[k] for r in rows[1:]] for k, name in enumerate(rows[0])}
    if dialect:
        plan = CsvDialect(path, rows[0], delimiter, quoted_header(header, delimiter), reading)
        table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
        table = _in_dialect(path, plan, mark_tokens(plan, table, text.lstrip("\ufeff")), issues)
        return pl.from_arrow(table), found, set()
    return pl.DataFrame(columns, schema={name: pl.String for name in rows[0]}), found, set()


def dataset_names(columns) -> list[str]:
    """Variable names as SDTM spells them: upper case, no surrounding blanks."""
    return [str(c).strip().upper() for c in columns]


def read_dataset(path: Path, fmt: str, issues: list[dict], reading=None) -> tuple[pl.DataFrame, set[str]]:
    """One SDTM file as read, names as SDTM spells them, with its source file and row first
    (and SRCLINE where data row n is not line n + 1, so issues name the real line); and the text
    columns known to need no trimming (blank_to_null)."""
    require_file(path, f"{path.stem.upper()} dataset")
    lines, plain = None, set()
    if fmt == "sdtm-xpt":
        raw = read_xpt(path, issues)
    else:
        raw, lines, plain = _read_csv(path, issues, reading, dialect=True)
    names = dict(zip(raw.columns, dataset_names(raw.columns)))
    raw = raw.rename(names)
    if lines is not None:
        raw = raw.select(pl.Series("SRCLINE", lines, dtype=pl.Int64), pl.all())
    return with_source(raw, path.name), {names[c] for c in plain} | source_plain(path.name)


def source_plain(file: str) -> set[str]:
    """{"SRCFILE"} when the file name needs no trimming."""
    return {"SRCFILE"} if file and file.strip() == file else set()


def _read(path: Path, fmt: str, issues: list[dict], reading=None):
    """read_dataset's frame as a pandas frame: what the split (regrowth.partition.split) takes
    until it reads with polars."""
    return read_dataset(path, fmt, issues, reading)[0].to_pandas()


def _upper_text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.to_uppercase()


def salt_from_qs(qs: pl.DataFrame, unmapped: list[dict]) -> pl.DataFrame:
    """SALT records found in QS, renamed to the RS convention (domain guide section 3).
    Other QS records are not analysed: they are listed in `unmapped`, not dropped."""
    is_salt = pl.lit(False)
    if "QSTESTCD" in qs.columns:
        is_salt = is_salt | _upper_text("QSTESTCD").is_in(list(SALT_TESTS)).fill_null(False)
    if "QSCAT" in qs.columns:
        is_salt = is_salt | (_upper_text("QSCAT") == "SALT").fill_null(False)
    flagged = qs.with_columns(is_salt.alias("_salt"))
    for rec in flagged.filter(~pl.col("_salt")).select("SRCFILE", "SRCROW").to_dicts():
        unmapped.append({**rec, "rule_id": "RG0006", "reason": "QS record is not a SALT assessment; not analysed"})
    rs = flagged.filter(pl.col("_salt")).drop("_salt")
    return rs.rename({k: v for k, v in QS_TO_RS.items() if k in rs.columns}).with_columns(DOMAIN=pl.lit("RS"))


SUPP_KEYS = ["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"]


def merge_supp(parent: pl.DataFrame, supp: pl.DataFrame, supp_name: str,
               links: list[dict] | None = None, unmapped: list[dict] | None = None) -> pl.DataFrame:
    """Attach SUPPxx qualifiers (QNAM -> column with QVAL) to their parent records.

    links receives, for each qualifier row, the parent row it was merged onto (so the
    qualifier shares its parent's fate: accepted or quarantined); rows with no parent go to
    unmapped. A qualifier's first non-missing value per parent record and QNAM is carried.
    """
    missing = [c for c in SUPP_KEYS if c not in supp.columns]
    if missing:
        raise InputError(f"{supp_name}: not a supplemental qualifier dataset (missing {', '.join(missing)})")
    traced = "SRCROW" in supp.columns
    supp = supp.select(*(["SRCFILE", "SRCROW"] if traced else []),
                       *(trimmed_text(c) if supp.schema[c] == pl.String else pl.col(c).cast(pl.String)
                         for c in SUPP_KEYS))
    if traced and links is not None and unmapped is not None:
        _link_supp(parent, supp, links, unmapped)
    out = parent
    for idvar in sorted(supp["IDVAR"].fill_null("").unique().to_list()):
        group = supp.filter(pl.col("IDVAR").fill_null("") == idvar)
        keys = ["USUBJID", "IDVARVAL"] if idvar else ["USUBJID"]
        given = group.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in [*keys, "QNAM", "QVAL"]))
        if not given.height:  # no value to carry
            continue
        wide = given.pivot(on="QNAM", index=keys, values="QVAL", aggregate_function="first", sort_columns=True)
        qnams = [c for c in wide.columns if c not in keys]
        wide = wide.rename({c: c if c not in out.columns else f"SUPP_{c}" for c in qnams})
        if idvar:
            if idvar not in out.columns:
                raise InputError(f"{supp_name}: IDVAR {idvar} is not a variable of its parent dataset")
            key = idvar_text(out, idvar).alias("IDVARVAL")
        else:
            key = None
        joined = (out.select(pl.col("USUBJID").cast(pl.String), *([key] if key is not None else []))
                  .join(wide, on=keys, how="left", maintain_order="left"))
        out = out.with_columns(joined.drop(keys).get_columns())
    return out


def idvar_text(df: pl.DataFrame, idvar: str) -> pl.Expr:
    """A parent variable as SUPPxx IDVARVAL writes it: numbers without a trailing .0 (as %g
    writes them), missing as ''."""
    column = pl.col(idvar)
    if df.schema[idvar] == pl.String:
        return column.fill_null("")
    distinct = df[idvar].drop_nulls().unique().to_list()
    text = {v: f"{v:g}" if isinstance(v, float) else str(v) for v in distinct}
    return column.replace_strict(text, default=None, return_dtype=pl.String).fill_null("")


def _link_supp(parent: pl.DataFrame, supp: pl.DataFrame, links: list[dict], unmapped: list[dict]) -> None:
    """Each qualifier row with the parent rows its USUBJID (and IDVAR = IDVARVAL) names, in
    parent order; one with none is unmapped (RG0709)."""
    rows = supp.with_row_index("_supp").with_columns(pl.col("IDVAR").fill_null(""))
    found = []
    for idvar in rows["IDVAR"].unique(maintain_order=True).to_list():
        these = rows.filter(pl.col("IDVAR") == idvar)
        # str(): a qualifier without USUBJID or IDVARVAL names the parent 'None'
        key = pl.col("USUBJID").fill_null("None")
        if idvar:
            key = key + "\0" + pl.col("IDVARVAL").fill_null("None")
        these = these.select("_supp", "SRCFILE", "SRCROW", key.alias("_key"))
        if not idvar:
            parent_key = pl.col("USUBJID").cast(pl.String)
        elif idvar in parent.columns:
            parent_key = pl.col("USUBJID").cast(pl.String) + "\0" + idvar_text(parent, idvar)
        else:
            parent_key = pl.lit(None, pl.String)
        parents = parent.select(pl.col("SRCFILE").alias("PARENTFILE"), pl.col("SRCROW").alias("PARENTROW"),
                                parent_key.alias("_key")).drop_nulls("_key")
        found.append(these.join(parents, on="_key", how="left", maintain_order="left_right"))
    if not found:
        return
    matched = pl.concat(found).sort("_supp", maintain_order=True)
    orphans = matched.filter(pl.col("PARENTROW").is_null())
    unmapped += [{**r, "rule_id": "RG0709", "reason": "SUPP record has no parent record"}
                 for r in orphans.select("SRCFILE", "SRCROW").to_dicts()]
    links += matched.filter(pl.col("PARENTROW").is_not_null()).select(
        "SRCFILE", "SRCROW", "PARENTFILE", "PARENTROW").to_dicts()


def ingest_sdtm(folder: Path, fmt: str, reading=None) -> tuple["Assembled", list[dict], list[dict]]:
    files = find_domain_files(folder, fmt)
    if not any(role in DOMAINS for role in files):
        raise InputError(f"{folder}: no SDTM {EXTENSIONS[fmt]} datasets found (expected dm{EXTENSIONS[fmt]}, ...)")
    raw, plain, records, issues = {}, {}, [], []
    for role, path in files.items():
        raw[role], plain[role] = read_dataset(path, fmt, issues, reading)
        records.append(file_record(path, fmt, raw[role].height, role.upper()))
    return assemble_domains(raw, files, issues, plain), records, issues


@dataclass
class Assembled:
    tables: dict[str, pl.DataFrame]
    unmapped: list[dict]  # source rows not carried into any canonical table, with the reason
    links: list[dict]  # source rows merged onto another row (SUPPxx onto their parents)


def assemble_domains(raw: dict[str, pl.DataFrame], files: dict[str, Path], issues: list[dict],
                     plain: dict[str, set[str]] | None = None) -> Assembled:
    """Datasets as read -> canonical domains: SALT from QS joins RS, SUPPxx join their parents,
    numeric variables typed (values that are not numbers reported). plain: per dataset, the text
    columns the reader found need no trimming."""
    raw, unmapped, links = dict(raw), [], []
    plain = {role: set((plain or {}).get(role, ())) for role in raw}
    if "qs" in raw:
        from_qs = salt_from_qs(raw.pop("qs"), unmapped)
        qs_plain = {QS_TO_RS.get(c, c) for c in plain.pop("qs")} | {"DOMAIN"}
        if from_qs.height and "rs" in raw:
            parts = [(set(raw["rs"].columns), plain["rs"]), (set(from_qs.columns), qs_plain)]
            raw["rs"] = pl.concat([raw["rs"], from_qs], how="diagonal_relaxed")
            # plain where every part that has the column has it plain
            plain["rs"] = {c for c in raw["rs"].columns if all(c not in cols or c in p for cols, p in parts)}
        elif from_qs.height:
            raw["rs"], plain["rs"] = from_qs, qs_plain
    for role in [r for r in raw if r.startswith("supp")]:
        supp = raw.pop(role)
        plain.pop(role)
        if role[4:] in raw:
            before = set(raw[role[4:]].columns)
            raw[role[4:]] = merge_supp(raw[role[4:]], supp, files[role].name, links, unmapped)
            plain[role[4:]] |= set(raw[role[4:]].columns) - before  # QVAL, trimmed by merge_supp
        else:
            unmapped += [{**r, "rule_id": "RG0709", "reason": f"SUPP record, but no {role[4:].upper()} dataset"}
                         for r in supp.select("SRCFILE", "SRCROW").to_dicts()]
    tables = {}
    for d in list(raw):  # each dataset as read freed once typed
        df = raw.pop(d)
        tables[d] = type_columns(df, d, df["SRCFILE"][0] if df.height else "", issues, plain.get(d, set()))
    return Assembled(tables, unmapped, links)
