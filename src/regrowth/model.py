"""The canonical, CDISC-named model every adapter produces.

Each domain lists its variables with a type ("str" or "num", as SAS knows them) and whether
the variable is required. SDTM numerics are doubles in every transport format, so numeric
variables are float64 here too; character variables use the pandas string dtype.
Two traceability variables are added to every ingested row: SRCFILE (export file name)
and SRCROW (1-based data row in that file), so any issue or number can be traced back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

STR = "str"
NUM = "num"


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # STR or NUM
    required: bool = False


@dataclass(frozen=True)
class Domain:
    name: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    @property
    def columns(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def required(self) -> list[str]:
        return [v.name for v in self.variables if v.required]

    def kind_of(self, column: str) -> str | None:
        for v in self.variables:
            if v.name == column:
                return v.kind
        return None


def _v(spec: str) -> tuple[Variable, ...]:
    """Parse 'NAME:kind[!]' tokens; '!' marks a required variable."""
    out = []
    for token in spec.split():
        name, kind = token.split(":")
        required = kind.endswith("!")
        out.append(Variable(name, STR if kind.rstrip("!") == "s" else NUM, required))
    return tuple(out)


TRACE = _v("SRCFILE:s SRCROW:n")
SOURCE_ORDER = ["SRCFILE", "SRCROW"]  # every canonical row traces to its export file and row
# Row order of canonical tables: by subject (no USUBJID first), then source file and row. A split
# trial's partitions are blocks of sorted subjects, so their tables concatenate in this order.
ROW_ORDER = ["USUBJID", *SOURCE_ORDER]

DOMAINS: dict[str, Domain] = {
    "dm": Domain(
        "DM",
        ("USUBJID",),
        _v(
            "STUDYID:s! DOMAIN:s! USUBJID:s! SUBJID:s SITEID:s RFSTDTC:s RFENDTC:s "
            "RFXSTDTC:s RFXENDTC:s BRTHDTC:s AGE:n AGEU:s SEX:s! RACE:s ETHNIC:s "
            "ARMCD:s ARM:s ACTARMCD:s ACTARM:s ARMNRS:s COUNTRY:s"
        ),
    ),
    "ex": Domain(
        "EX",
        ("USUBJID", "EXSEQ"),
        _v(
            "STUDYID:s! DOMAIN:s! USUBJID:s! EXSEQ:n! EXTRT:s! EXDOSE:n EXDOSU:s "
            "EXDOSFRQ:s EXROUTE:s EXSTDTC:s! EXENDTC:s"
        ),
    ),
    "ds": Domain(
        "DS",
        ("USUBJID", "DSSEQ"),
        _v("STUDYID:s! DOMAIN:s! USUBJID:s! DSSEQ:n! DSTERM:s DSDECOD:s! DSCAT:s EPOCH:s DSSTDTC:s"),
    ),
    "ae": Domain(
        "AE",
        ("USUBJID", "AESEQ"),
        _v(
            "STUDYID:s! DOMAIN:s! USUBJID:s! AESEQ:n! AETERM:s! AEDECOD:s AEBODSYS:s "
            "AESEV:s AESER:s AEREL:s AEACN:s AESTDTC:s AEENDTC:s"
        ),
    ),
    "sv": Domain(
        "SV",
        ("USUBJID", "VISITNUM"),
        _v("STUDYID:s! DOMAIN:s! USUBJID:s! VISITNUM:n! VISIT:s SVSTDTC:s SVENDTC:s"),
    ),
    "mh": Domain(
        "MH",
        ("USUBJID", "MHSEQ"),
        _v("STUDYID:s! DOMAIN:s! USUBJID:s! MHSEQ:n! MHTERM:s! MHDECOD:s MHCAT:s MHSTDTC:s"),
    ),
    "rs": Domain(
        "RS",
        ("USUBJID", "RSTESTCD", "VISITNUM"),
        _v(
            "STUDYID:s! DOMAIN:s! USUBJID:s! RSSEQ:n! RSCAT:s RSTESTCD:s! RSTEST:s "
            "RSORRES:s RSORRESU:s RSSTRESC:s RSSTRESN:n RSSTRESU:s RSDRVFL:s "
            "VISITNUM:n VISIT:s RSDTC:s"
        ),
    ),
}

DOMAIN_NAMES: list[str] = list(DOMAINS)

# SALT (domain guide section 2): regions and their share of scalp area.
SALT_WEIGHTS: dict[str, float] = {"SALT01": 0.40, "SALT02": 0.24, "SALT03": 0.18, "SALT04": 0.18}
SALT_TESTS: dict[str, str] = {
    "SALT01": "SALT Vertex/Top Hair Loss",
    "SALT02": "SALT Posterior/Back Hair Loss",
    "SALT03": "SALT Right Side Hair Loss",
    "SALT04": "SALT Left Side Hair Loss",
    "SALTTOT": "SALT Total Score",
}

# AA subtypes as recorded in MH (MHCAT = AA_SUBTYPE_CAT), in order of extent.
AA_SUBTYPE_CAT = "ALOPECIA AREATA SUBTYPE"
AA_SUBTYPES = ["PATCHY AA", "OPHIASIS", "ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS"]


def empty_domain(domain: str) -> pd.DataFrame:
    """A zero-row table with the domain's columns and canonical types."""
    spec = DOMAINS[domain]
    cols = {}
    for v in spec.variables + TRACE:
        cols[v.name] = pd.Series([], dtype="float64" if v.kind == NUM else "str")
    return pd.DataFrame(cols)


def conform(df: pd.DataFrame, domain: str) -> pd.DataFrame:
    """Canonical column order and types; absent permissible variables become null; extra kept."""
    spec = DOMAINS[domain]
    out = df.copy(deep=False)  # copy-on-write (pandas 3): columns set below leave df as it was
    for v in spec.variables + TRACE:
        if v.name not in out.columns:
            out[v.name] = pd.Series(None, index=out.index, dtype="float64" if v.kind == NUM else "str")
        elif v.kind == NUM:
            out[v.name] = pd.to_numeric(out[v.name]).astype("float64")
        else:
            out[v.name] = out[v.name].astype("str")
    return out[column_order(out.columns, domain)].reset_index(drop=True)


QUARANTINE_COLUMNS = ["QRULES", "QREASON"]  # why a row was set aside (validate.gate)


def column_order(columns, domain: str) -> list[str]:
    """Canonical column order: the model's variables, then extra ones (SUPPxx qualifiers)
    sorted, then quarantine reasons if any."""
    known = [v.name for v in DOMAINS[domain].variables + TRACE]
    tail = [c for c in QUARANTINE_COLUMNS if c in columns]
    extra = sorted(c for c in columns if c not in known and c not in tail)
    return [c for c in known if c in columns] + extra + tail
