"""The canonical, CDISC-named model every adapter produces.

Each domain lists its variables with a type ("str" or "num", as SAS knows them) and whether
the variable is required. SDTM numerics are doubles in every transport format, so numeric
variables are float64 here too; character variables are text (polars String; controlled terms
Categorical, see Domain.terms; the pandas string dtype in the pandas stages).
Two traceability variables are added to every ingested row: SRCFILE (export file name)
and SRCROW (1-based data row in that file), so any issue or number can be traced back.
"""

from __future__ import annotations

from dataclasses import dataclass

STR = "str"
NUM = "num"
# SDTMIG core designations: a required variable must be in the dataset; an expected one is
# expected but may be absent; a permissible one is the sponsor's choice.
REQ, EXP, PERM = "Req", "Exp", "Perm"
# How a text variable's values are normalised at ingest, so that validation and derivation
# compare the same value: "term" controlled terminology (trimmed, upper case), "flag" a Y/N
# flag (Yes/No, 1/0, True/False read as Y/N).
TERM, FLAG = "term", "flag"


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # STR or NUM
    core: str = PERM  # REQ, EXP or PERM
    nonnull: bool = False  # every record must carry a value (RG0002)
    needed_by: str = ""  # what a derivation makes of it: absent from a dataset that is there, an error
    values: str | None = None  # TERM, FLAG or None (free text, numbers)
    label: str = ""
    used_for: str = ""  # read where present (a fallback, a table): absent, the table says so

    @property
    def required(self) -> bool:  # a value on every record (pandera's nullable=False)
        return self.nonnull


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
        """Variables that must be in the dataset (SDTMIG Req)."""
        return [v.name for v in self.variables if v.core == REQ]

    @property
    def needed(self) -> list[Variable]:
        """Variables a derivation reads: absent from a dataset that is there, the run stops."""
        return [v for v in self.variables if v.needed_by]

    @property
    def terms(self) -> list[str]:
        """Text variables of controlled values (terms, Y/N flags): few distinct values, carried
        dictionary-encoded (polars Categorical) from ingest to the Parquet writer."""
        return [v.name for v in self.variables if v.values is not None and v.kind == STR]

    def variable(self, column: str) -> Variable | None:
        for v in self.variables:
            if v.name == column:
                return v
        return None

    def kind_of(self, column: str) -> str | None:
        v = self.variable(column)
        return v.kind if v else None


def _v(name, kind, core=PERM, label="", *, nonnull=False, needed_by="", values=None, used_for="") -> Variable:
    return Variable(name, kind, core, nonnull, needed_by, values, label, used_for)


def _ids(domain: str, seq: bool = True) -> tuple[Variable, ...]:
    out = (_v("STUDYID", STR, REQ, "Study identifier", nonnull=True),
           _v("DOMAIN", STR, REQ, "Domain abbreviation", nonnull=True),
           _v("USUBJID", STR, REQ, "Unique subject identifier", nonnull=True, needed_by="every table: the subject"))
    if seq:
        out += (_v(f"{domain}SEQ", NUM, REQ, "Sequence number", nonnull=True),)
    return out


S, N = STR, NUM
TRACE = (_v("SRCFILE", S, label="Export file (added by regrowth)"), _v("SRCROW", N, label="Data row in that file"))
SOURCE_ORDER = ["SRCFILE", "SRCROW"]  # every canonical row traces to its export file and row
# Row order of canonical tables: by subject (no USUBJID first), then source file and row. A split
# trial's partitions are blocks of sorted subjects, so their tables concatenate in this order.
ROW_ORDER = ["USUBJID", *SOURCE_ORDER]

# Variables per domain (SDTMIG 3.4 core designations) and what the derivations make of them.
DOMAINS: dict[str, Domain] = {
    "dm": Domain("DM", ("USUBJID",), _ids("DM", seq=False) + (
        _v("SUBJID", S, REQ, "Subject identifier for the study"),
        _v("SITEID", S, REQ, "Study site identifier"),
        _v("RFSTDTC", S, EXP, "Subject reference start date"),
        _v("RFENDTC", S, EXP, "Subject reference end date"),
        _v("RFXSTDTC", S, EXP, "First study treatment date",
           used_for="ADSL TRTSDT when the export has no EX dataset"),
        _v("RFXENDTC", S, EXP, "Last study treatment date",
           used_for="ADSL TRTEDT when the export has no EX dataset"),
        _v("BRTHDTC", S, PERM, "Date of birth"),
        _v("AGE", N, EXP, "Age", used_for="demographics"),
        _v("AGEU", S, EXP, "Age units", values=TERM),
        _v("SEX", S, REQ, "Sex", nonnull=True, values=TERM, used_for="demographics"),
        _v("RACE", S, EXP, "Race", values=TERM, used_for="demographics"),
        _v("ETHNIC", S, PERM, "Ethnicity", values=TERM),
        _v("ARMCD", S, EXP, "Planned arm code"),
        _v("ARM", S, EXP, "Description of planned arm", needed_by="ADSL TRT01P and ITTFL (planned treatment)"),
        _v("ACTARMCD", S, EXP, "Actual arm code"),
        _v("ACTARM", S, EXP, "Description of actual arm", needed_by="ADSL TRT01A (safety by actual treatment)"),
        _v("ARMNRS", S, EXP, "Reason arm is null"),
        _v("COUNTRY", S, REQ, "Country", values=TERM),
    )),
    "ex": Domain("EX", ("USUBJID", "EXSEQ"), _ids("EX") + (
        _v("EXTRT", S, REQ, "Name of treatment", nonnull=True),
        _v("EXDOSE", N, EXP, "Dose"),
        _v("EXDOSU", S, EXP, "Dose units"),  # not normalised: UNIT terms are case-sensitive (mg, mL)
        _v("EXDOSFRQ", S, PERM, "Dosing frequency per interval", values=TERM),
        _v("EXROUTE", S, PERM, "Route of administration", values=TERM),
        _v("EXSTDTC", S, EXP, "Start date of treatment", nonnull=True, needed_by="ADSL TRTSDT (first dose), SAFFL"),
        _v("EXENDTC", S, EXP, "End date of treatment", needed_by="ADSL TRTEDT (last dose), phases, TEAE window"),
    )),
    "ds": Domain("DS", ("USUBJID", "DSSEQ"), _ids("DS") + (
        _v("DSTERM", S, REQ, "Reported term for the disposition event"),
        _v("DSDECOD", S, REQ, "Standardized disposition term", nonnull=True, values=TERM,
           needed_by="ADSL EOSSTT and DCSREAS"),
        _v("DSCAT", S, EXP, "Category for disposition event", values=TERM,
           needed_by="ADSL EOSSTT (which records are disposition events)"),
        _v("EPOCH", S, PERM, "Epoch", values=TERM),
        _v("DSSTDTC", S, EXP, "Start date of disposition event", needed_by="ADSL EOSDT (the last event)"),
    )),
    "ae": Domain("AE", ("USUBJID", "AESEQ"), _ids("AE") + (
        _v("AETERM", S, REQ, "Reported term for the adverse event", nonnull=True),
        _v("AEDECOD", S, REQ, "Dictionary-derived term", needed_by="safety table by preferred term"),
        _v("AEBODSYS", S, EXP, "Body system or organ class", needed_by="safety table by system organ class"),
        _v("AESEV", S, PERM, "Severity/intensity", values=TERM),
        _v("AESER", S, EXP, "Serious event", values=FLAG, needed_by="serious TEAE counts"),
        _v("AEREL", S, EXP, "Causality", values=TERM),
        _v("AEACN", S, EXP, "Action taken with study treatment", values=TERM,
           used_for="TEAEs leading to discontinuation of study drug"),
        _v("AESTDTC", S, EXP, "Start date of adverse event", needed_by="ADAE ASTDT and TRTEMFL (treatment emergence)"),
        _v("AEENDTC", S, EXP, "End date of adverse event"),
    )),
    "sv": Domain("SV", ("USUBJID", "VISITNUM"), _ids("SV", seq=False) + (
        _v("VISITNUM", N, REQ, "Visit number", nonnull=True),
        _v("VISIT", S, PERM, "Visit name"),
        _v("SVSTDTC", S, EXP, "Start date of visit", used_for="ADSL TRTEDT: a partial last dose is not after the last visit"),
        _v("SVENDTC", S, EXP, "End date of visit"),
    )),
    "mh": Domain("MH", ("USUBJID", "MHSEQ"), _ids("MH") + (
        _v("MHTERM", S, REQ, "Reported term for the medical history", nonnull=True),
        _v("MHDECOD", S, PERM, "Dictionary-derived term", needed_by="ADSL AATYPE (alopecia areata subtype)"),
        _v("MHCAT", S, PERM, "Category for medical history", values=TERM,
           needed_by="ADSL AATYPE (which record is the subtype)"),
        _v("MHSTDTC", S, PERM, "Start date of medical history event", needed_by="ADSL DURDIS (disease duration)"),
    )),
    "rs": Domain("RS", ("USUBJID", "RSTESTCD", "VISITNUM"), _ids("RS") + (
        _v("RSCAT", S, EXP, "Category (SALT)", values=TERM),
        _v("RSTESTCD", S, REQ, "Short name of the assessment (SALT01-04, SALTTOT)", nonnull=True, values=TERM,
           needed_by="ADSALT PARAMCD (which records are SALT)"),
        _v("RSTEST", S, REQ, "Name of the assessment"),
        _v("RSORRES", S, EXP, "Result as collected"),
        _v("RSORRESU", S, PERM, "Original units"),
        _v("RSSTRESC", S, EXP, "Result in standard format"),
        _v("RSSTRESN", N, PERM, "Numeric result in standard units", needed_by="ADSALT AVAL (the SALT score)"),
        _v("RSSTRESU", S, PERM, "Standard units (%)"),
        _v("RSDRVFL", S, PERM, "Derived flag", values=FLAG),
        _v("VISITNUM", N, EXP, "Visit number", needed_by="ADSALT VISITNUM (one record per visit)"),
        _v("VISIT", S, PERM, "Visit name"),
        _v("RSDTC", S, EXP, "Date of the assessment", needed_by="ADSALT ADT, ADY, baseline and analysis visits"),
    )),
}

# Names that exports use for a canonical variable (CDASH collection names, common spellings):
# an absent canonical variable with one of these in the dataset gets "did you mean".
SYNONYMS: dict[str, dict[str, str]] = {
    "ae": {"AESTDAT": "AESTDTC", "AEENDAT": "AEENDTC", "AEPT": "AEDECOD", "AESOC": "AEBODSYS"},
    "ex": {"EXSTDAT": "EXSTDTC", "EXENDAT": "EXENDTC"},
    "ds": {"DSSTDAT": "DSSTDTC"},
    "mh": {"MHSTDAT": "MHSTDTC"},
    "rs": {"RSDAT": "RSDTC"},
    "dm": {"BRTHDAT": "BRTHDTC", "PLANNED_ARM": "ARM", "ACTUAL_ARM": "ACTARM"},
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

# ARM/ACTARM values of subjects not assigned to, or not given, a treatment (upper case)
NOT_ASSIGNED_ARMS = frozenset({"SCREEN FAILURE", "SCREEN FAILED", "NOT ASSIGNED", "NOT TREATED"})

# CDISC NCOMPLT codelist: standardized disposition terms (DSDECOD of disposition events)
NCOMPLT_CT = [
    "COMPLETED", "ADVERSE EVENT", "DEATH", "LACK OF EFFICACY", "LOST TO FOLLOW-UP",
    "PHYSICIAN DECISION", "PROTOCOL DEVIATION", "PROTOCOL VIOLATION", "WITHDRAWAL BY SUBJECT",
    "STUDY TERMINATED BY SPONSOR", "SCREEN FAILURE", "PREGNANCY", "PROGRESSIVE DISEASE",
    "RECOVERY", "NON-COMPLIANCE WITH STUDY DRUG", "OTHER",
]

# AA subtypes as recorded in MH (MHCAT = AA_SUBTYPE_CAT), in order of extent.
AA_SUBTYPE_CAT = "ALOPECIA AREATA SUBTYPE"
AA_SUBTYPES = ["PATCHY AA", "OPHIASIS", "ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS"]


def empty_domain(domain: str) -> pd.DataFrame:
    """A zero-row table with the domain's columns and canonical types."""
    import pandas as pd  # here: ingest, on polars, imports this module without pandas

    spec = DOMAINS[domain]
    cols = {}
    for v in spec.variables + TRACE:
        cols[v.name] = pd.Series([], dtype="float64" if v.kind == NUM else "str")
    return pd.DataFrame(cols)


def conform(df: pd.DataFrame, domain: str) -> pd.DataFrame:
    """Canonical column order and types; absent permissible variables become null; extra kept."""
    import pandas as pd

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


def conform_frame(df, domain: str):
    """conform for a polars frame: canonical column order and types (numbers Float64, text
    String), absent variables null, extra columns kept as they are."""
    import polars as pl

    spec = DOMAINS[domain]
    columns = []
    for v in spec.variables + TRACE:
        kind = pl.Float64 if v.kind == NUM else pl.String
        columns.append(pl.col(v.name).cast(kind) if v.name in df.columns else pl.lit(None, kind).alias(v.name))
    return df.with_columns(columns).select(column_order([*df.columns, *(v.name for v in spec.variables + TRACE)],
                                                        domain))


def terms_categorical(df, domain: str):
    """The domain's controlled-term columns (Domain.terms) as polars Categorical."""
    import polars as pl

    terms = [c for c in DOMAINS[domain].terms if c in df.columns]
    return df.with_columns(pl.col(terms).cast(pl.String).cast(pl.Categorical)) if terms else df


def empty_domain_frame(domain: str):
    """empty_domain for polars: a zero-row frame with the domain's columns and canonical types
    (controlled terms Categorical, as ingest gives them)."""
    import polars as pl

    schema = {v.name: pl.Float64 if v.kind == NUM else pl.String for v in DOMAINS[domain].variables + TRACE}
    return terms_categorical(pl.DataFrame(schema=schema), domain)


QUARANTINE_COLUMNS = ["QRULES", "QREASON"]  # why a row was set aside (validate.gate)


def column_order(columns, domain: str) -> list[str]:
    """Canonical column order: the model's variables, then extra ones (SUPPxx qualifiers)
    sorted, then quarantine reasons if any."""
    known = [v.name for v in DOMAINS[domain].variables + TRACE]
    tail = [c for c in QUARANTINE_COLUMNS if c in columns]
    extra = sorted({c for c in columns if c not in known and c not in tail})
    return [c for c in known if c in columns] + extra + tail


def variables_markdown() -> str:
    """The variables per domain, for the README: what a data manager checks an export against."""
    lines = []
    for spec in DOMAINS.values():
        lines += [f"**{spec.name}** (one record per {', '.join(spec.keys)})", "",
                  "| variable | label | type | core | values | what regrowth derives from it |", "|---|---|---|---|---|---|"]
        for v in spec.variables:
            kind = "text" if v.kind == STR else "number"
            values = {TERM: "controlled terms", FLAG: "Y/N"}.get(v.values, "")
            if v.nonnull:
                values = (values + ", " if values else "") + "never empty"
            use = f"{v.needed_by} (needed)" if v.needed_by else v.used_for
            lines.append(f"| {v.name} | {v.label} | {kind} | {v.core} | {values} | {use} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def write_markdown_block(readme: str, name: str, text: str) -> None:
    """Replace the text between <!-- name:start --> and <!-- name:end --> in a Markdown file."""
    from pathlib import Path

    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    path = Path(readme)
    head, rest = path.read_text().split(start)
    _old, tail = rest.split(end)
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}")


if __name__ == "__main__":  # python -m regrowth.model README.md
    import sys

    write_markdown_block(sys.argv[1] if len(sys.argv) > 1 else "README.md", "variables", variables_markdown())
