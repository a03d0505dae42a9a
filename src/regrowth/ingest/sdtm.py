"""SDTM datasets from any sponsor, one file per domain, as SAS XPORT (.xpt) or CSV.

Handles what real deliveries carry: file names in any case, empty strings for missing, CSV
with a BOM, CRLF or ';' / tab delimiters, latin-1/cp1252 text (read, with a notice), SALT in
QS instead of RS, and SUPPxx qualifiers (merged onto their parent records as extra columns).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyreadstat

from regrowth.errors import InputError
from regrowth.frames import blank_to_null
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


def _notice(issues: list[dict], path: Path, column, message: str, rule: str = "RG0005") -> None:
    issues.append({"rule_id": rule, "severity": "notice", "dataset": path.stem.upper(), "file": path.name,
                   "usubjid": None, "row": None, "column": column, "value": None, "message": message})


def read_xpt(path: Path, issues: list[dict]) -> pd.DataFrame:
    # pyreadstat, not pandas.read_sas: pandas turns some stored zeros into 5.4e-79.
    try:
        df, _meta = pyreadstat.read_xport(str(path))
    except UnicodeDecodeError:
        try:
            df, _meta = pyreadstat.read_xport(str(path), encoding="cp1252")
        except Exception as exc:
            raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
        _notice(issues, path, None, "text is not UTF-8; read as cp1252 (Windows Latin-1)")
    except Exception as exc:  # pyreadstat raises its own error types for corrupt files
        raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
    return df


def decode_text(path: Path, issues: list[dict]) -> str:
    data = path.read_bytes()
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


def read_csv(path: Path, issues: list[dict] | None = None) -> pd.DataFrame:
    issues = [] if issues is None else issues
    text = decode_text(path, issues)
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise InputError(f"{path}: no header line (file is empty or starts with a blank line)")
    delimiter = sniff_delimiter(header)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    names = [str(c).strip() for c in df.columns]
    blank = [i + 1 for i, c in enumerate(names) if c == "" or c.startswith("Unnamed: ")]
    if blank:
        raise InputError(f"{path}: blank column name(s) at position {', '.join(map(str, blank))}")
    upper = [c.upper() for c in names]
    dups = sorted({c for c in upper if upper.count(c) > 1} | {c.split(".")[0] for c in names if "." in c
                                                             and c.split(".")[0].upper() in upper})
    if dups:
        raise InputError(f"{path}: duplicate column name(s): {', '.join(dups)}")
    return df


def _read(path: Path, fmt: str, issues: list[dict]) -> pd.DataFrame:
    require_file(path, f"{path.stem.upper()} dataset")
    raw = read_xpt(path, issues) if fmt == "sdtm-xpt" else read_csv(path, issues)
    raw.columns = [str(c).strip().upper() for c in raw.columns]
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", path.name)
    return raw


def salt_from_qs(qs: pd.DataFrame) -> pd.DataFrame:
    """SALT records found in QS, renamed to the RS convention (domain guide section 3)."""
    if "QSTESTCD" not in qs.columns:
        return qs.iloc[0:0]
    is_salt = qs["QSTESTCD"].astype("str").str.upper().isin(list(SALT_TESTS))
    if "QSCAT" in qs.columns:
        is_salt |= qs["QSCAT"].astype("str").str.upper().eq("SALT").fillna(False)
    rs = qs[is_salt.fillna(False)].rename(columns=QS_TO_RS)
    rs["DOMAIN"] = "RS"
    return rs


def merge_supp(parent: pd.DataFrame, supp: pd.DataFrame, supp_name: str) -> pd.DataFrame:
    """Attach SUPPxx qualifiers (QNAM -> column with QVAL) to their parent records."""
    need = ["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"]
    missing = [c for c in need if c not in supp.columns]
    if missing:
        raise InputError(f"{supp_name}: not a supplemental qualifier dataset (missing {', '.join(missing)})")
    supp = blank_to_null(supp[need])
    out = parent.copy()
    for idvar, group in supp.groupby(supp["IDVAR"].fillna(""), sort=True):
        wide = group.pivot_table(index=["USUBJID", "IDVARVAL"] if idvar else ["USUBJID"], columns="QNAM",
                                 values="QVAL", aggfunc="first")
        wide.columns = [c if c not in out.columns else f"SUPP_{c}" for c in wide.columns]
        if idvar:
            if idvar not in out.columns:
                raise InputError(f"{supp_name}: IDVAR {idvar} is not a variable of its parent dataset")
            key = out[idvar].map(lambda v: "" if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)))
            joined = wide.reindex(pd.MultiIndex.from_arrays([out["USUBJID"], key]))
        else:
            joined = wide.reindex(out["USUBJID"])
        for col in wide.columns:
            out[col] = joined[col].to_numpy()
    return out


def ingest_sdtm(folder: Path, fmt: str) -> tuple[dict[str, pd.DataFrame], list[dict], list[dict]]:
    files = find_domain_files(folder, fmt)
    if not any(role in DOMAINS for role in files):
        raise InputError(f"{folder}: no SDTM {EXTENSIONS[fmt]} datasets found (expected dm{EXTENSIONS[fmt]}, ...)")
    raw, records, issues = {}, [], []
    for role, path in files.items():
        raw[role] = _read(path, fmt, issues)
        records.append(file_record(path, fmt, len(raw[role]), role.upper()))
    return assemble_domains(raw, files, issues), records, issues


def assemble_domains(raw: dict[str, pd.DataFrame], files: dict[str, Path], issues: list[dict]) -> dict[str, pd.DataFrame]:
    """Datasets as read -> canonical domains: SALT from QS joins RS, SUPPxx join their parents,
    numeric variables typed (values that are not numbers reported)."""
    raw = dict(raw)
    if "qs" in raw:
        from_qs = salt_from_qs(raw.pop("qs"))
        if len(from_qs):
            raw["rs"] = pd.concat([raw["rs"], from_qs], ignore_index=True) if "rs" in raw else from_qs
    for role in [r for r in raw if r.startswith("supp")]:
        supp = raw.pop(role)
        if role[4:] in raw:
            raw[role[4:]] = merge_supp(raw[role[4:]], supp, files[role].name)
    return {d: type_columns(df, d, df["SRCFILE"].iloc[0] if len(df) else "", issues) for d, df in raw.items()}
