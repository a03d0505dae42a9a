"""The bad-input corpus: malformed exports across all formats, each with what must be said.

Every case starts from a small valid trial (BASE, three subjects) in one format and breaks one
thing. `expect` is either ("rule", id): validation must report that rule (in quarantine policy
the trial continues and every row is accounted for), or ("error", text): reading must stop with
one clear error naming the file and containing text.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from regrowth.simulate.export_dataset_json import write_dataset_json
from regrowth.simulate.export_sdtm import write_xpt


def _csv(rows: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(rows), dtype=str, keep_default_na=False)


BASE = {
    "dm": _csv("STUDYID,DOMAIN,USUBJID,SUBJID,SITEID,SEX,AGE,ARM,ACTARM,RFSTDTC,RFENDTC,RFXSTDTC,RFXENDTC,COUNTRY\n"
               "T,DM,T-1,1,01,F,34,Drug 5 mg,Drug 5 mg,2020-01-06,2020-06-01,2020-01-06,2020-03-29,USA\n"
               "T,DM,T-2,2,01,M,51,Drug 5 mg,Drug 5 mg,2020-01-13,2020-06-08,2020-01-13,2020-04-05,USA\n"
               "T,DM,T-3,3,01,F,47,Placebo,Placebo,2020-01-20,2020-06-15,2020-01-20,2020-04-12,USA\n"),
    "ex": _csv("STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXSTDTC,EXENDTC\n"
               "T,EX,T-1,1,DRUG,5,mg,2020-01-06,2020-03-29\n"
               "T,EX,T-2,1,DRUG,5,mg,2020-01-13,2020-04-05\n"
               "T,EX,T-3,1,PLACEBO,0,mg,2020-01-20,2020-04-12\n"),
    "ds": _csv("STUDYID,DOMAIN,USUBJID,DSSEQ,DSTERM,DSDECOD,DSCAT,DSSTDTC\n"
               "T,DS,T-1,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-01\n"
               "T,DS,T-2,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-08\n"
               "T,DS,T-3,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-15\n"),
    "ae": _csv("STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEDECOD,AEBODSYS,AESEV,AESER,AESTDTC,AEENDTC\n"
               "T,AE,T-1,1,headache,Headache,Nervous system disorders,MILD,N,2020-02-01,2020-02-03\n"
               "T,AE,T-2,1,cold,Nasopharyngitis,Infections and infestations,MODERATE,N,2020-03,\n"),
    "sv": _csv("STUDYID,DOMAIN,USUBJID,VISITNUM,VISIT,SVSTDTC\n"
               "T,SV,T-1,1,BASELINE,2020-01-06\nT,SV,T-1,2,WEEK 12,2020-03-29\n"
               "T,SV,T-2,1,BASELINE,2020-01-13\nT,SV,T-2,2,WEEK 12,2020-04-05\n"
               "T,SV,T-3,1,BASELINE,2020-01-20\nT,SV,T-3,2,WEEK 12,2020-04-12\n"),
    "rs": _csv("STUDYID,DOMAIN,USUBJID,RSSEQ,RSCAT,RSTESTCD,RSTEST,RSSTRESN,RSSTRESU,VISITNUM,VISIT,RSDTC\n"
               "T,RS,T-1,1,SALT,SALTTOT,SALT Total Score,80,%,1,BASELINE,2020-01-06\n"
               "T,RS,T-1,2,SALT,SALTTOT,SALT Total Score,30,%,2,WEEK 12,2020-03-29\n"
               "T,RS,T-2,1,SALT,SALTTOT,SALT Total Score,65.5,%,1,BASELINE,2020-01-13\n"
               "T,RS,T-2,2,SALT,SALTTOT,SALT Total Score,60,%,2,WEEK 12,2020-04-05\n"
               "T,RS,T-3,1,SALT,SALTTOT,SALT Total Score,90,%,1,BASELINE,2020-01-20\n"
               "T,RS,T-3,2,SALT,SALTTOT,SALT Total Score,88,%,2,WEEK 12,2020-04-12\n"),
}
NUMERIC = {"AGE", "EXSEQ", "EXDOSE", "DSSEQ", "AESEQ", "VISITNUM", "RSSEQ", "RSSTRESN", "QSSEQ", "QSSTRESN"}


def base() -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in BASE.items()}


@dataclass
class Case:
    name: str
    fmt: str  # sdtm-csv | sdtm-xpt | dataset-json | redcap
    expect: tuple[str, str]
    change: Callable[[dict], None] = lambda t: None  # edits the tables (sdtm/dataset-json)
    raw: dict[str, bytes | str] = field(default_factory=dict)  # files written as they are, after the tables
    after: Callable[[Path], None] = lambda folder: None  # edits the written files (REDCap cases)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if self.fmt == "redcap":
            from tests.corpus.redcap import write_redcap

            write_redcap(folder)
        else:
            tables = base()
            self.change(tables)
            for name, df in tables.items():
                if df is None:
                    continue
                write_table(df, folder, name, self.fmt)
        for name, data in self.raw.items():
            path = folder / name
            if data is None:
                path.unlink()
            else:
                path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        self.after(folder)
        return folder


def write_table(df: pd.DataFrame, folder: Path, name: str, fmt: str) -> None:
    if fmt == "sdtm-csv":
        df.to_csv(folder / f"{name}.csv", index=False)
    elif fmt == "sdtm-xpt":
        typed = df.copy()
        for col in typed.columns:  # numbers as SAS numerics, unless a case put text there
            if col in NUMERIC and typed[col].str.match(r"^-?[\d.]*$").all():
                typed[col] = pd.to_numeric(typed[col].replace("", None))
        write_xpt(typed, folder / f"{name}.xpt", name)
    elif fmt == "dataset-json":
        typed = df.copy()
        for col in typed.columns:
            if col in NUMERIC and typed[col].str.match(r"^-?[\d.]*$").all():
                typed[col] = pd.to_numeric(typed[col].replace("", None))
        typed = typed.replace("", None)
        write_dataset_json(typed, folder / f"{name}.json", name, "T")


def edit(domain, row, col, value):
    def change(t):
        t[domain].loc[row, col] = value
    return change


def add_row(domain, values: dict):
    def change(t):
        t[domain] = pd.concat([t[domain], pd.DataFrame([values])], ignore_index=True).fillna("")
    return change


def drop_column(domain, col):
    def change(t):
        t[domain] = t[domain].drop(columns=[col])
    return change


def _dsjson(**over):
    d = {"datasetJSONCreationDateTime": "2024-01-01T00:00:00", "datasetJSONVersion": "1.1.0",
         "itemGroupOID": "IG.DM", "records": 1, "name": "DM", "label": "DM",
         "columns": [{"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "Subject", "dataType": "string"},
                     {"itemOID": "IT.SEX", "name": "SEX", "label": "Sex", "dataType": "string"},
                     {"itemOID": "IT.AGE", "name": "AGE", "label": "Age", "dataType": "integer"}],
         "rows": [["T-1", "F", 34]]}
    d.update(over)
    return json.dumps(d)


def _xpt_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_xpt(pd.DataFrame({"STUDYID": ["T"], "USUBJID": ["T-1"], "AGE": [30.0]}), Path(tmp) / "dm.xpt", "dm")
        return (Path(tmp) / "dm.xpt").read_bytes()


SDTM_RULE_CASES = [
    ("missing-required-variable", drop_column("dm", "SEX"), "RG0001"),
    ("blank-required-value", edit("ae", 0, "USUBJID", ""), "RG0002"),
    ("no-subjects", lambda t: t.update(dm=t["dm"].iloc[0:0]), "RG0003"),
    ("age-not-a-number", edit("dm", 1, "AGE", "fifty"), "RG0101"),
    ("sex-not-in-terminology", edit("dm", 0, "SEX", "W"), "RG0201"),
    ("aesev-not-in-terminology", edit("ae", 0, "AESEV", "GRADE 2"), "RG0202"),
    ("aeser-not-y-or-n", edit("ae", 0, "AESER", "PROBABLY"), "RG0203"),
    ("aeser-yes-no", edit("ae", 0, "AESER", "Yes"), "RG0007"),
    ("ae-start-date-absent", drop_column("ae", "AESTDTC"), "RG0008"),
    ("ae-severity-misspelt", lambda t: t.update(ae=t["ae"].rename(columns={"AESEV": "AESVE"})), "RG0009"),
    ("no-ex-dataset", lambda t: t.update(ex=None), "RG0010"),
    ("no-exposure-anywhere", lambda t: t.update(ex=None, dm=t["dm"].drop(columns=["RFXSTDTC", "RFXENDTC"])),
     "RG0011"),
    ("sdtmig-required-absent", drop_column("dm", "SITEID"), "RG0012"),
    ("unknown-aa-subtype", lambda t: t.update(mh=_csv(
        "STUDYID,DOMAIN,USUBJID,MHSEQ,MHTERM,MHDECOD,MHCAT,MHSTDTC\n"
        "T,MH,T-1,1,patchy,Patchy AA,ALOPECIA AREATA SUBTYPE,2015\n"
        "T,MH,T-2,1,AU,ALOPECIA UNIVERSALE,ALOPECIA AREATA SUBTYPE,2012-05\n")), "RG0208"),
    ("salt-unit", edit("rs", 0, "RSSTRESU", "cm2"), "RG0204"),
    ("disposition-term", edit("ds", 2, "DSDECOD", "MOVED AWAY"), "RG0205"),
    ("salt-over-100", edit("rs", 1, "RSSTRESN", "120"), "RG0301"),
    ("age-over-120", edit("dm", 2, "AGE", "131"), "RG0302"),
    ("negative-dose", edit("ex", 0, "EXDOSE", "-5"), "RG0303"),
    ("date-not-iso", edit("ae", 0, "AESTDTC", "02/01/2020"), "RG0401"),
    ("duplicate-subject", add_row("dm", {**BASE["dm"].iloc[0].to_dict(), "AGE": "35"}), "RG0501"),
    ("duplicate-seq", edit("ae", 1, "USUBJID", "T-1"), "RG0502"),
    ("duplicate-salt", add_row("rs", {**BASE["rs"].iloc[1].to_dict(), "RSSEQ": "9"}), "RG0503"),
    ("duplicate-visit", add_row("sv", {**BASE["sv"].iloc[1].to_dict(), "SVSTDTC": "2020-03-30"}), "RG0504"),
    ("ae-ends-before-start", edit("ae", 0, "AEENDTC", "2020-01-15"), "RG0602"),
    ("ex-ends-before-start", edit("ex", 1, "EXENDTC", "2020-01-01"), "RG0603"),
    ("subject-not-in-dm", edit("ae", 1, "USUBJID", "T-9"), "RG0701"),
    ("no-baseline-salt", edit("rs", 2, "RSDTC", "2020-01-20"), "RG0702"),
    ("arm-without-exposure", lambda t: (t.update(ex=t["ex"].iloc[:2]), edit("dm", 2, "RFXSTDTC", "")(t),
                                        edit("dm", 2, "RFXENDTC", "")(t)), "RG0703"),
    ("salt-date-partial", edit("rs", 1, "RSDTC", "2020-03"), "RG0402"),
    ("ae-without-start", edit("ae", 0, "AESTDTC", ""), "RG0604"),
    ("last-dose-without-end", edit("ex", 1, "EXENDTC", ""), "RG0605"),
    ("dosed-without-actual-arm", edit("dm", 0, "ACTARM", ""), "RG0707"),
    ("arm-spelt-two-ways", edit("dm", 1, "ARM", "DRUG 5 MG"), "RG0209"),
    ("disposition-without-category", lambda t: (edit("ds", 0, "DSCAT", "")(t), edit("ds", 0, "DSDECOD", "FINISHED")(t)),
     "RG0210"),
    ("ae-outside-study-period", edit("ae", 0, "AESTDTC", "2021-02-01"), "RG0704"),
    ("placebo-arm-active-drug", lambda t: (edit("ex", 2, "EXTRT", "DRUG")(t), edit("ex", 2, "EXDOSE", "5")(t)),
     "RG0705"),
    ("salt-out-of-window", edit("rs", 1, "RSDTC", "2020-05-20"), "RG0706"),
]


def _salt_regions(t):
    extra = [{**BASE["rs"].iloc[0].to_dict(), "RSSEQ": str(10 + i), "RSTESTCD": code, "RSSTRESN": v}
             for i, (code, v) in enumerate([("SALT01", "100"), ("SALT02", "100"), ("SALT03", "100"), ("SALT04", "10")])]
    t["rs"] = pd.concat([t["rs"], pd.DataFrame(extra)], ignore_index=True)


def _qs(t):
    t["qs"] = _csv("STUDYID,DOMAIN,USUBJID,QSSEQ,QSCAT,QSTESTCD,QSSTRESN\nT,QS,T-1,1,HADS,HADS01,3\n")


def _supp_orphan(t):
    t["suppae"] = _csv("STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\nT,AE,T-1,AESEQ,7,AETRTEM,TE,Y\n")


CASES: list[Case] = []
for name, change, rule in SDTM_RULE_CASES:
    CASES.append(Case(f"csv-{name}", "sdtm-csv", ("rule", rule), change))
CASES += [
    Case("csv-salt-total-regions-disagree", "sdtm-csv", ("rule", "RG0601"), _salt_regions),
    Case("csv-qs-not-salt", "sdtm-csv", ("rule", "RG0006"), _qs),
    Case("csv-supp-orphan", "sdtm-csv", ("rule", "RG0709"), _supp_orphan),
    Case("csv-cp1252", "sdtm-csv", ("rule", "RG0005"),
         raw={"ae.csv": "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEDECOD,AEBODSYS,AESER,AESTDTC,AEENDTC\n"
                        "T,AE,T-1,1,ecz\xe9ma,Eczema,Skin and subcutaneous tissue disorders,N,2020-02-01,\n"
                        .encode("latin-1")}),
    Case("csv-utf16", "sdtm-csv", ("rule", "RG0005"),
         raw={"dm.csv": BASE["dm"].to_csv(index=False).encode("utf-16")}),
    Case("csv-empty-file", "sdtm-csv", ("error", "is empty (0 bytes)"), raw={"dm.csv": b""}),
    Case("csv-binary-junk", "sdtm-csv", ("error", "binary content"), raw={"ae.csv": bytes(range(256)) * 4}),
    Case("csv-ragged-rows", "sdtm-csv", ("error", "not a readable CSV file"),
         raw={"ae.csv": "STUDYID,USUBJID\nT,T-1,extra,fields\n"}),
    Case("csv-duplicate-columns", "sdtm-csv", ("error", "duplicate column name(s): USUBJID"),
         raw={"ae.csv": "STUDYID,USUBJID,usubjid\nT,T-1,T-1\n"}),
    Case("csv-blank-column", "sdtm-csv", ("error", "blank column name"), raw={"ae.csv": "STUDYID,,USUBJID\nT,x,T-1\n"}),
    Case("csv-blank-first-line", "sdtm-csv", ("error", "no header line"), raw={"ae.csv": "\nSTUDYID,USUBJID\n"}),
    Case("csv-no-datasets", "sdtm-csv", ("error", "no SDTM .csv datasets"),
         raw={f"{d}.csv": None for d in BASE} | {"readme.txt": "nothing here"}),
    Case("xpt-sex-not-in-terminology", "sdtm-xpt", ("rule", "RG0201"), edit("dm", 0, "SEX", "W")),
    Case("xpt-age-as-text", "sdtm-xpt", ("rule", "RG0101"), edit("dm", 1, "AGE", "fifty")),
    Case("xpt-truncated", "sdtm-xpt", ("error", "not a readable SAS XPORT file"), raw={"dm.xpt": _xpt_bytes()[:500]}),
    Case("xpt-junk", "sdtm-xpt", ("error", "not a readable SAS XPORT file"), raw={"ae.xpt": b"\x89PNG\r\n" * 100}),
    Case("xpt-empty", "sdtm-xpt", ("error", "is empty (0 bytes)"), raw={"ex.xpt": b""}),
    Case("json-salt-over-100", "dataset-json", ("rule", "RG0301"), edit("rs", 1, "RSSTRESN", "120")),
    Case("json-subject-not-in-dm", "dataset-json", ("rule", "RG0701"), edit("ae", 1, "USUBJID", "T-9")),
    Case("json-invalid", "dataset-json", ("error", "invalid JSON at line 1"), raw={"dm.json": '{"name": "DM", '}),
    Case("json-no-columns", "dataset-json", ("error", "'columns' is a required property"),
         raw={"dm.json": json.dumps({k: v for k, v in json.loads(_dsjson()).items() if k != "columns"})}),
    Case("json-row-length", "dataset-json", ("error", "row 1 has 2 values but 3 columns"),
         raw={"dm.json": _dsjson(rows=[["T-1", "F"]])}),
    Case("json-records-mismatch", "dataset-json", ("error", "'records' says 4"), raw={"dm.json": _dsjson(records=4)}),
    Case("json-bad-datatype", "dataset-json", ("error", "columns/2/dataType"),
         raw={"dm.json": _dsjson().replace('"integer"', '"int32"')}),
    Case("json-integer-as-text", "dataset-json", ("error", "column AGE is integer but row 1 holds 'old'"),
         raw={"dm.json": _dsjson(rows=[["T-1", "F", "old"]])}),
    Case("json-version-1.0", "dataset-json", ("error", "datasetJSONVersion"),
         raw={"dm.json": _dsjson(datasetJSONVersion="1.0.0")}),
    Case("json-not-utf8", "dataset-json", ("error", "not UTF-8"), raw={"dm.json": _dsjson().encode("utf-16")}),
    Case("ndjson-bad-line", "dataset-json", ("error", "invalid JSON"),
         raw={"dm.json": None, "dm.ndjson": json.dumps({k: v for k, v in json.loads(_dsjson()).items() if k != "rows"})
              + "\n[\"T-1\", \"F\", 34\n"}),
]


def _redcap_cases() -> list[Case]:
    from tests.corpus import redcap as rc

    return [
        Case("redcap-bad-choice", "redcap", ("rule", "RG0206"), after=rc.set_value("sex", "7")),
        Case("redcap-bad-date", "redcap", ("rule", "RG0207"), after=rc.set_value("salt_date", "2014-13-01")),
        Case("redcap-out-of-range", "redcap", ("rule", "RG0304"), after=rc.set_value("salt_top", "140")),
        Case("redcap-field-absent", "redcap", ("rule", "RG0004"), after=rc.drop_records_column("atopic_derm")),
        Case("redcap-unmapped-event-row", "redcap", ("rule", "RG0006"),
             after=lambda f: rc.records(f).assign(redcap_event_name="extra_arm_1").iloc[:1]
             .pipe(lambda extra: pd.concat([rc.records(f), extra.assign(**{c: "" for c in extra.columns[2:]})]))
             .to_csv(f / "P_records.csv", index=False)),
        Case("redcap-no-dictionary", "redcap", ("error", "exactly one"), raw={"P_dictionary.csv": None}),
        Case("redcap-no-mapping", "redcap", ("error", "REDCap mapping file not found"), raw={"mapping.yaml": None}),
        Case("redcap-mapping-not-yaml", "redcap", ("error", "not valid YAML"), raw={"mapping.yaml": "study: [unclosed"}),
        Case("redcap-mapping-invalid", "redcap", ("error", "invalid REDCap mapping at study"),
             after=rc.edit_mapping(lambda m: m["study"].pop("STUDYID"))),
        Case("redcap-no-planned-arm", "redcap", ("error", "no planned arm: the records are in REDCap arm(s) 1"),
             after=rc.edit_mapping(lambda m: m["study"].pop("ARM"))),
        Case("redcap-unmapped-required", "redcap", ("error", "unmapped required variable(s): DM.SEX"),
             after=rc.edit_mapping(lambda m: m["fields"].pop("sex"))),
        Case("redcap-mapped-field-not-in-dictionary", "redcap", ("error", "not in the data dictionary: age -> years"),
             after=rc.edit_mapping(lambda m: m["fields"].update(age="years"))),
        Case("redcap-no-record-id", "redcap", ("error", "not a REDCap records export"),
             after=rc.drop_records_column("record_id")),
        Case("redcap-not-a-dictionary", "redcap", ("error", "not a REDCap data dictionary"),
             raw={"P_dictionary.csv": "a,b\n1,2\n"}),
    ]


CASES += _redcap_cases()
