"""CSV dialects of the tools that write SDTM: missing values, the decimal mark and row indexes.

What each tool writes, and how it is read here:

- R `write.csv` / `write.table`: the header and every text value quoted, a missing value as a
  bare `NA` (in numbers and text alike), row names as a first column named "" holding 1..n
  (unless `row.names = FALSE`); `write.csv2` the same with ';' and decimal commas. readr's
  `write_csv` quotes only where needed, writes missing as a bare `NA` and the text "NA" quoted.
- SAS `PROC EXPORT` (DBMS=CSV or DLM) runs a DATA step with the DSD option: a missing number or
  text is an empty field (missing already). A DATA step `PUT` without DSD writes a missing
  number as `.`.
- Excel: a UTF-8 BOM ("CSV UTF-8"), CRLF line ends (both read by regrowth.ingest.sdtm); in
  European locales ';' between fields and decimal commas.
- pandas `to_csv`: NaN as an empty field; the row index as a first column with no name holding
  0..n-1 (unless `index=False`).

Decided per file, from the trial sheet's `na_values` and `decimal` (regrowth.reading) or,
where the sheet leaves them out, from the file:

- Missing values. Sheet `na_values` set: those texts, quoted or not, are missing in every
  column, and nothing else is detected (`none`: no text but an empty field is missing). Left
  out: a bare `NA` is missing where the file shows it means missing: in a numeric or date column
  (where "NA" can never be a value; likewise DOMAIN, RDOMAIN and IDVAR, which name datasets and
  variables), and in text columns too when the file quotes its header (R's `write.csv`: text is
  quoted, so a bare NA is no text) or has a bare NA in such a column as well (its writer writes
  NA for missing). A bare NA in text columns only, in a file with no such evidence, may be a
  value (Namibia, "not applicable"): the file is refused and the message names `na_values`. A
  quoted "NA" stays text. A lone `.` in a numeric column is SAS's missing number (never a
  number): missing.
- Decimal mark. Sheet `decimal=.`: numbers are read as they are (`12,5` is reported as not a
  number). `decimal=,`: a decimal comma in a numeric column is read as a point, and a decimal
  point there is refused (in such a file a point may be a thousands separator). Left out, in a
  file delimited by ';', tab or '|' (a ',' file cannot hold an unquoted decimal comma): decimal
  commas are read when some value shows the comma is no thousands separator (`12,5`, `0,25`)
  and no number has a decimal point; commas that could all be thousands separators (`1,234`)
  and numbers written both ways are refused, the message naming `decimal`.
- Row index. A first column without a name holding 0, 1, 2, ... (pandas) or 1, 2, 3, ... (R's
  row names) is dropped; any other column without a name is an error, as before.

Every conversion is decided value by value and only refusing or noting is decided for the file,
after its last row, so a file read whole and a file split batch by batch
(regrowth.partition.split) give the same values and stop with the same message. Each conversion
is reported once per file as a notice (rule RG0005) naming the columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from regrowth.errors import InputError
from regrowth.ingest.common import read_issue
from regrowth.reading import Reading
from regrowth.model import DOMAINS, NUM

NA = "NA"  # R's missing value
SAS_MISSING = "."  # SAS's missing number, as a PUT without DSD writes it
SHEET = "the trial sheet (config/trials.tsv)"
QS_NAMES = {"QSSEQ": "RSSEQ", "QSSTRESN": "RSSTRESN", "QSDTC": "RSDTC"}  # QS read as RS (regrowth.ingest.sdtm)
# SDTM numeric variables outside the model (kept as text, but NA or '.' in them is no value)
NUMERIC_SUFFIXES = ("SEQ", "STRESN", "DY", "TPTNUM", "DOSE", "DOSTOT", "STNRLO", "STNRHI")
NUMERIC_NAMES = {"AGE", "VISITNUM", "TAETORD"}
# text that names a dataset or variable: no SDTM dataset or variable is named NA
NAME_COLUMNS = {"DOMAIN", "RDOMAIN", "IDVAR"}
TEXT, NUMBER, DATE, NAME = "text", "number", "date", "name"
_EXPONENT = r"(?:[eE][+-]?\d+)?"
COMMA_NUMBER = rf"^\s*[+-]?\d*,\d+{_EXPONENT}\s*$"  # 12,5  ,5  -0,25  1,5E-05
POINT_NUMBER = rf"^\s*[+-]?\d*\.\d+{_EXPONENT}\s*$"  # 12.5
THOUSANDS_LIKE = r"^\s*[+-]?[1-9]\d{0,2},\d{3}\s*$"  # 1,234 or 12,500: a thousands separator?
_NULL = pa.scalar(None, pa.string())


def column_kind(role: str, column: str) -> str:
    """NUMBER, DATE, NAME (of a dataset or variable) or TEXT: what SDTM makes of a variable of
    a dataset (role: the file's lower-case name, e.g. rs, qs, suppae). Only in TEXT can "NA" be
    a value; SUPPxx values (QVAL, IDVARVAL) are text whatever they hold."""
    if column in NAME_COLUMNS:
        return NAME
    if role.startswith("supp"):
        return TEXT
    if column.endswith("DTC"):
        return DATE
    spec = DOMAINS.get("rs" if role == "qs" else role)
    kind = spec.kind_of(QS_NAMES.get(column, column) if role == "qs" else column) if spec else None
    if kind is not None:
        return NUMBER if kind == NUM else TEXT
    return NUMBER if column in NUMERIC_NAMES or column.endswith(NUMERIC_SUFFIXES) else TEXT


def quoted_header(header: str, delimiter: str) -> bool:
    """True when every name of the header line is in double quotes (R's write.csv)."""
    fields = header.strip().split(delimiter)
    return bool(fields) and all(len(f) >= 2 and f.startswith('"') and f.endswith('"') for f in fields)


@dataclass
class _Found:
    """Where a conversion applied in one column: its first data row and that row's value."""

    row: int | None = None
    value: str | None = None
    clear: bool = False  # decimal commas: some value that cannot be a thousands separator


def _names(columns) -> str:
    columns = list(columns)
    return f"{len(columns)} column{'s' if len(columns) != 1 else ''} ({', '.join(columns)})"


@dataclass
class CsvDialect:
    """One CSV file's reading plan (from the sheet's settings and its header) and what it found,
    batch by batch (apply), decided once at the end (finish)."""

    path: Path
    names: list[str]  # as in the file
    delimiter: str
    quoted_header: bool
    reading: Reading
    columns: list[str] = field(init=False)  # as SDTM spells them
    na: dict[str, _Found] = field(default_factory=dict)
    dots: dict[str, _Found] = field(default_factory=dict)
    commas: dict[str, _Found] = field(default_factory=dict)
    points: dict[str, _Found] = field(default_factory=dict)
    index_base: int | None = None  # the row index's first value (0 pandas, 1 R) once seen

    def __post_init__(self):
        self.reading = Reading.of(self.reading)
        self.columns = [str(c).strip().upper() for c in self.names]
        role = self.path.stem.lower()
        self.kinds = {c: column_kind(role, c) for c in self.columns}
        sheet = self.reading.na_values
        self.tokens = (NA,) if sheet is None else tuple(sheet)
        decimal = self.reading.decimal
        self.read_commas = decimal == "," or (decimal is None and self.delimiter != ",")
        self.index = bool(self.names) and str(self.names[0]).strip() == ""

    @property
    def detecting_na(self) -> bool:
        return self.reading.na_values is None

    @property
    def kept_names(self) -> list[str]:
        """The file's column names without a row index."""
        return self.names[1:] if self.index else list(self.names)

    def convert_options(self) -> pa_csv.ConvertOptions:
        """pyarrow reads every column as text; the missing-value texts as null (bare only, unless
        the sheet names them): free while parsing."""
        return pa_csv.ConvertOptions(column_types={n: pa.string() for n in self.names},
                                     strings_can_be_null=bool(self.tokens), null_values=list(self.tokens),
                                     quoted_strings_can_be_null=not self.detecting_na)

    # --- batch by batch ------------------------------------------------------------------------

    def apply(self, table: pa.Table, first_row: int) -> pa.Table | None:
        """A batch of text columns as read (data rows first_row...), converted; None when the
        first column has no name and is no row index (the caller reports the blank name)."""
        if self.index:
            if not self._is_index(table.column(0), first_row):
                return None
            table = table.remove_column(0)
        out, changed = [], False
        for name, column in zip(self.columns[1:] if self.index else self.columns, table.columns):
            if column.null_count:
                self._note(self.na, name, column, pc.is_null(column), first_row)
            if self.kinds[name] == NUMBER:
                converted = self._number(name, column, first_row)
                changed |= converted is not column
                column = converted
            out.append(column)
        return pa.table(out, names=table.column_names) if changed else table

    def _is_index(self, column, first_row: int) -> bool:
        if len(column) == 0:
            return True
        try:
            values = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # text, or missing
            return False
        if self.index_base is None:
            if values[0] not in (0, 1):
                return False
            self.index_base = int(values[0])
        expected = np.arange(first_row - 1 + self.index_base, first_row - 1 + self.index_base + len(values))
        return bool(np.array_equal(values, expected))

    def _number(self, name: str, column, first_row: int):
        if self.detecting_na:
            dots = pc.equal(column, SAS_MISSING)
            if pc.any(dots).as_py():
                self._note(self.dots, name, column, dots, first_row)
                column = pc.if_else(dots, _NULL, column)
        if not self.read_commas:
            return column
        points = pc.match_substring_regex(column, POINT_NUMBER)
        if pc.any(points).as_py():
            self._note(self.points, name, column, points, first_row)
        commas = pc.match_substring_regex(column, COMMA_NUMBER)
        if pc.any(commas).as_py():
            found = self._note(self.commas, name, column, commas, first_row)
            unlike = pc.and_kleene(commas, pc.invert(pc.match_substring_regex(column, THOUSANDS_LIKE)))
            found.clear |= bool(pc.any(unlike).as_py())
            column = pc.if_else(commas, pc.replace_substring(column, ",", "."), column)
        return column

    @staticmethod
    def _note(where: dict[str, _Found], name: str, column, mask, first_row: int) -> _Found:
        found = where.setdefault(name, _Found())
        if found.row is None:
            at = pc.index(mask.fill_null(False), True).as_py()
            found.row, found.value = first_row + at, column[at].as_py()
        return found

    # --- for the file --------------------------------------------------------------------------

    def finish(self, issues: list[dict]) -> None:
        """After the last row: refuse what is ambiguous (InputError naming the file, the column
        and the sheet setting), or add a notice per conversion."""
        notices = []
        if self.index:
            notices.append(self._index_notice())
        if self.na:
            notices.append(self._na_notice())
        if self.dots:
            notices.append(f"'.' (SAS's missing number) read as missing in {_names(self.dots)}")
        if self.commas or (self.points and self.reading.decimal == ","):
            notices.append(self._decimal_notice())
        issues += [read_issue("RG0005", self.path.stem.upper(), self.path.name, None, message) for message in notices]

    def _index_notice(self) -> str:
        if self.index_base is None:
            return "first column has no name and no values; dropped"
        writer = {0: "0, 1, 2, ...: pandas' row index (to_csv without index=False)",
                  1: "1, 2, 3, ...: R's row names (write.csv without row.names=FALSE)"}[self.index_base]
        return f"first column has no name and holds {writer}; dropped"

    def _na_notice(self) -> str:
        if not self.detecting_na:
            return f"{' or '.join(self.tokens)} read as missing in {_names(self.na)}, as na_values in {SHEET} says"
        text = [c for c in self.na if self.kinds[c] == TEXT]
        if text and not (self.quoted_header or len(text) < len(self.na)):
            first = self.na[text[0]]
            raise InputError(
                f"{self.path}: a bare NA is in text column{'s' if len(text) > 1 else ''} {', '.join(text)} (first in "
                f"data row {first.row}) and in no numeric or date column, and the file does not quote its text, so "
                f"NA may be a value there; add na_values=NA to {SHEET} if it means missing, or na_values=none if it "
                f"is a value")
        return f"NA read as missing in {_names(self.na)}: R's missing value, written bare (a quoted \"NA\" stays text)"

    def _decimal_notice(self) -> str:
        if self.points:
            point_col, point = next(iter(self.points.items()))
            if self.reading.decimal == ",":
                raise InputError(
                    f"{self.path}: {point_col} holds '{point.value}' (data row {point.row}) with a decimal point, but "
                    f"{SHEET} sets decimal=, and a point may then be a thousands separator; correct the value, "
                    f"or set decimal=. if the file's decimal mark is the point")
        comma_col, comma = next(iter(self.commas.items()))
        if self.points:
            raise InputError(
                f"{self.path}: numbers are written with a decimal comma ({comma_col} '{comma.value}', data row "
                f"{comma.row}) and with a decimal point ({point_col} '{point.value}', data row {point.row}); add "
                f"decimal=, or decimal=. to {SHEET} to say which is the decimal mark (numbers written the other "
                f"way are then refused or reported as not numbers)")
        example = f"'{comma.value.strip()}' as {comma.value.strip().replace(',', '.')}"
        if self.reading.decimal == ",":
            return f"decimal commas read in {_names(self.commas)} ({example}), as decimal=, in {SHEET} says"
        if not any(f.clear for f in self.commas.values()):
            raise InputError(
                f"{self.path}: {comma_col} holds '{comma.value}' (data row {comma.row}): a comma followed by three "
                f"digits may be a decimal comma or a thousands separator, and no number in the file shows which; "
                f"add decimal=, to {SHEET} if it is the decimal mark, or decimal=. if it is not (such values are "
                f"then reported as not numbers)")
        return f"decimal commas read in {_names(self.commas)} ({example}); set decimal in {SHEET} to read them " \
               "otherwise"


def mark_tokens(dialect: CsvDialect, table: pa.Table, text: str) -> pa.Table:
    """The careful reader's table (every value as text, as the csv module gives it) with the
    missing-value texts null as the fast reader makes them. The csv module does not say which
    values were quoted: where a detected NA is in the file, pyarrow parses the text again to
    tell a bare NA (missing) from a quoted "NA" (text)."""
    if not dialect.tokens or table.num_rows == 0:
        return table
    tokens = pa.array(dialect.tokens, pa.string())
    masks = [pc.is_in(c, value_set=tokens) for c in table.columns]
    if not any(pc.any(m).as_py() for m in masks):
        return table
    if dialect.detecting_na:
        bare = _bare_tokens(dialect, text, table.num_rows)
        masks = [pc.and_(m, pc.is_null(b)) for m, b in zip(masks, bare.columns)]
    return pa.table([pc.if_else(m, _NULL, c) for m, c in zip(masks, table.columns)], names=table.column_names)


def _bare_tokens(dialect: CsvDialect, text: str, rows: int) -> pa.Table:
    try:
        parsed = pa_csv.read_csv(pa.py_buffer(text.encode("utf-8")),
                                 read_options=pa_csv.ReadOptions(column_names=dialect.names, skip_rows=1),
                                 parse_options=pa_csv.ParseOptions(delimiter=dialect.delimiter,
                                                                   newlines_in_values=True),
                                 convert_options=dialect.convert_options())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        parsed = None
    if parsed is None or parsed.num_rows != rows:
        raise InputError(f"{dialect.path}: NA is in the file, and whether each is quoted (text) or bare (missing) "
                         f"cannot be told here; add na_values=NA to {SHEET} if NA means missing, or "
                         f"na_values=none if it is a value")
    return parsed
