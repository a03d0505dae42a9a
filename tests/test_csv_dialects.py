"""SDTM CSV files as R, SAS, Excel and pandas write them (regrowth.ingest.csv_dialect), each
read through ingest: the exact values of the canonical tables and the file's notice, or the
refusal that names the file, the column and the trial sheet setting to add."""

import pandas as pd
import polars as pl
import pytest

from regrowth.errors import InputError
from regrowth.ingest import ingest_partition, ingest_trial
from regrowth.reading import Reading

SHEET = "the trial sheet (config/trials.tsv)"


def write(folder, name, data: bytes | str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def notices(ingested, file=None) -> list[str]:
    found = ingested.issues.filter(pl.col("rule_id") == "RG0005")
    if file is not None:
        found = found.filter(pl.col("file") == file)
    return found["message"].to_list()


def not_numbers(ingested) -> list[tuple]:
    return ingested.issues.filter(pl.col("rule_id") == "RG0101").select("file", "column", "value").rows()


# --- R ---------------------------------------------------------------------------------------

# write.csv(df) with its defaults: header and text quoted, numbers bare, NA bare, row names 1..n
R_DM = ('"","STUDYID","DOMAIN","USUBJID","SEX","AGE","ARM","ACTARM","COUNTRY"\n'
        '"1","T","DM","T-1","F",30,"Drug","Drug","NA"\n'
        '"2","T","DM","T-2","M",NA,"Drug","Drug",NA\n')
R_RS = ('"","STUDYID","DOMAIN","USUBJID","RSSEQ","RSTESTCD","RSTEST","RSORRES","RSSTRESC","RSSTRESN","VISITNUM",'
        '"RSDTC"\n'
        '"1","T","RS","T-1",1,"SALTTOT","SALT Total Score","12.5","12.5",12.5,1,"2020-01-01"\n'
        '"2","T","RS","T-1",2,"SALTTOT","SALT Total Score",NA,NA,NA,2,NA\n'
        '"3","T","RS","T-2",1,"SALTTOT","SALT Total Score","NA","NA",NA,1,"2020-01-03"\n')
R_SUPPDM = ('"","STUDYID","RDOMAIN","USUBJID","IDVAR","IDVARVAL","QNAM","QLABEL","QVAL"\n'
            '"1","T","DM","T-2",NA,NA,"RACEOTH","Race, other","Maori"\n')


def test_r_write_csv_na_is_missing_and_a_quoted_na_stays_text(tmp_path):
    write(tmp_path, "dm.csv", R_DM)
    write(tmp_path, "rs.csv", R_RS)
    write(tmp_path, "suppdm.csv", R_SUPPDM)
    got = ingest_trial(tmp_path, "sdtm-csv")
    dm, rs = got.tables["dm"], got.tables["rs"]
    assert dm["USUBJID"].to_list() == ["T-1", "T-2"] and dm["AGE"].to_list() == [30.0, None]
    assert dm["COUNTRY"].cast(pl.String).to_list() == ["NA", None]  # "NA" quoted: text (Namibia)
    assert dm["RACEOTH"].to_list() == [None, "Maori"]  # IDVAR NA: a subject-level qualifier
    assert rs["RSSTRESN"].to_list() == [12.5, None, None] and rs["RSSEQ"].to_list() == [1.0, 2.0, 1.0]
    assert rs["RSDTC"].to_list() == ["2020-01-01", None, "2020-01-03"]
    assert rs["RSORRES"].to_list() == ["12.5", None, "NA"]
    assert not_numbers(got) == []
    assert "STUDYID" == dm.columns[0] and "" not in dm.columns  # the row names are dropped
    row_names = "first column has no name and holds 1, 2, 3, ...: R's row names (write.csv without " \
                "row.names=FALSE); dropped"
    assert notices(got, "rs.csv") == [
        row_names,
        "NA read as missing in 4 columns (RSORRES, RSSTRESC, RSSTRESN, RSDTC): R's missing value, written bare "
        "(a quoted \"NA\" stays text)"]
    assert notices(got, "dm.csv")[1].startswith("NA read as missing in 2 columns (AGE, COUNTRY)")
    assert notices(got, "suppdm.csv")[1].startswith("NA read as missing in 2 columns (IDVAR, IDVARVAL)")


def test_r_write_csv_through_the_careful_reader(tmp_path):
    """A quoted line break sends the file to the csv-module reader, which cannot see quotes:
    bare and quoted NA are still told apart."""
    write(tmp_path, "dm.csv", R_DM)
    write(tmp_path, "ae.csv", '"","STUDYID","DOMAIN","USUBJID","AESEQ","AETERM","AEREL"\n'
                              '"1","T","AE","T-1",1,"Headache\nsevere","NA"\n'
                              '"2","T","AE","T-1",NA,"rash",NA\n')
    got = ingest_trial(tmp_path, "sdtm-csv")
    ae = got.tables["ae"]
    assert ae["AETERM"].to_list() == ["Headache\nsevere", "rash"]
    assert ae["AEREL"].cast(pl.String).to_list() == ["NA", None] and ae["AESEQ"].to_list() == [1.0, None]
    assert notices(got, "ae.csv")[1].startswith("NA read as missing in 2 columns (AESEQ, AEREL)")


# readr::write_csv: quotes only where needed, NA bare, the text "NA" quoted
READR_DM = ("STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM,ARMNRS\n"
            "T,DM,T-1,F,NA,Drug,Drug,NA\n"
            'T,DM,T-2,M,41,"Drug, 5 mg","Drug, 5 mg",NA\n')
READR_AE = ("STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEREL,AESTDTC\n"
            "T,AE,T-1,1,rash,NA,2020-01-05\n"
            "T,AE,T-2,1,cough,PROBABLE,2020-01-06\n")


def test_readr_na_in_a_number_shows_it_is_missing_in_text_too(tmp_path):
    write(tmp_path, "dm.csv", READR_DM)
    got = ingest_trial(tmp_path, "sdtm-csv")
    dm = got.tables["dm"]
    assert dm["AGE"].to_list() == [None, 41.0] and dm["ARMNRS"].to_list() == [None, None]
    assert dm["ARM"].to_list() == ["Drug", "Drug, 5 mg"]
    assert notices(got) == ["NA read as missing in 2 columns (AGE, ARMNRS): R's missing value, written bare "
                            "(a quoted \"NA\" stays text)"]


def test_a_bare_na_only_in_text_is_refused_naming_na_values(tmp_path):
    write(tmp_path, "dm.csv", READR_DM.replace(",NA,Drug", ",33,Drug"))  # AGE given: NA only in ARMNRS
    with pytest.raises(InputError) as exc:
        ingest_trial(tmp_path, "sdtm-csv")
    assert str(exc.value) == (
        f"{tmp_path / 'dm.csv'}: a bare NA is in text column ARMNRS (first in data row 1) and in no numeric or "
        f"date column, and the file does not quote its text, so NA may be a value there; add na_values=NA to "
        f"{SHEET} if it means missing, or na_values=none if it is a value")


def test_the_sheets_na_values_decide_and_nothing_is_detected(tmp_path):
    write(tmp_path, "dm.csv", READR_DM)
    write(tmp_path, "ae.csv", READR_AE)
    with pytest.raises(InputError, match=r"ae\.csv: a bare NA is in text column AEREL .* add na_values=NA"):
        ingest_trial(tmp_path, "sdtm-csv")
    got = ingest_trial(tmp_path, "sdtm-csv", Reading(na_values=("NA",)))
    assert got.tables["ae"]["AEREL"].cast(pl.String).to_list() == [None, "PROBABLE"]
    assert got.tables["dm"]["AGE"].to_list() == [None, 41.0]
    assert notices(got, "ae.csv") == [f"NA read as missing in 1 column (AEREL), as na_values in {SHEET} says"]
    # na_values=none: NA is a value; in a number it is then reported, not read as missing
    got = ingest_trial(tmp_path, "sdtm-csv", Reading.from_sheet({"na_values": "none"}))
    assert got.tables["ae"]["AEREL"].cast(pl.String).to_list() == ["NA", "PROBABLE"]
    assert got.tables["dm"]["ARMNRS"].to_list() == ["NA", "NA"]
    assert not_numbers(got) == [("dm.csv", "AGE", "NA")] and notices(got) == []


def test_sheet_na_values_are_missing_quoted_or_not(tmp_path):
    write(tmp_path, "dm.csv", 'STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM\nT,DM,T-1,F,-99,"N/A",Drug\n'
                              "T,DM,T-2,M,41,Drug,N/A\n")
    got = ingest_trial(tmp_path, "sdtm-csv", Reading.from_sheet({"na_values": "N/A, -99"}))
    dm = got.tables["dm"]
    assert dm["AGE"].to_list() == [None, 41.0] and dm["ARM"].to_list() == [None, "Drug"]
    assert dm["ACTARM"].to_list() == ["Drug", None]
    assert notices(got) == [f"N/A or -99 read as missing in 3 columns (AGE, ARM, ACTARM), as na_values in {SHEET} says"]


# --- SAS -------------------------------------------------------------------------------------

def test_sas_proc_export_writes_missing_as_empty_fields(tmp_path):
    """PROC EXPORT DBMS=CSV (a DATA step with DSD): names bare, missing numbers and text empty,
    text quoted only where it holds the delimiter or a quote; CRLF on Windows."""
    write(tmp_path, "DM.csv", "STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM\r\n"
                              'T,DM,T-1,F,30,"Drug, 5 mg","Drug, 5 mg"\r\nT,DM,T-2,M,,Placebo,Placebo\r\n')
    write(tmp_path, "RS.csv", "STUDYID,DOMAIN,USUBJID,RSSEQ,RSTESTCD,RSSTRESN,VISITNUM,RSDTC\r\n"
                              "T,RS,T-1,1,SALTTOT,12.5,1,2020-01-01\r\nT,RS,T-1,2,SALTTOT,,2,\r\n")
    got = ingest_trial(tmp_path, "sdtm-csv")
    assert got.tables["dm"]["AGE"].to_list() == [30.0, None]
    assert got.tables["dm"]["ARM"].to_list() == ["Drug, 5 mg", "Placebo"]
    assert got.tables["rs"]["RSSTRESN"].to_list() == [12.5, None]
    assert got.tables["rs"]["RSDTC"].to_list() == ["2020-01-01", None]
    assert notices(got) == [] and not_numbers(got) == []


def test_sas_dot_is_a_missing_number_but_text_in_a_text_column(tmp_path):
    """A DATA step PUT without DSD: a missing number is '.', missing text a blank."""
    write(tmp_path, "dm.csv", "STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM\nT,DM,T-1,F,30,Drug,Drug\n"
                              "T,DM,T-2,M,.,Drug,Drug\n")
    write(tmp_path, "rs.csv", "STUDYID,DOMAIN,USUBJID,RSSEQ,RSTESTCD,RSORRES,RSSTRESN,VISITNUM,RSDTC\n"
                              "T,RS,T-1,1,SALTTOT,.,.,1, \nT,RS,T-1,2,SALTTOT,40,40,.,2020-02-01\n")
    got = ingest_trial(tmp_path, "sdtm-csv")
    rs = got.tables["rs"]
    assert got.tables["dm"]["AGE"].to_list() == [30.0, None]
    assert rs["RSSTRESN"].to_list() == [None, 40.0] and rs["VISITNUM"].to_list() == [1.0, None]
    assert rs["RSORRES"].to_list() == [".", "40"] and rs["RSDTC"].to_list() == [None, "2020-02-01"]
    assert notices(got, "rs.csv") == ["'.' (SAS's missing number) read as missing in 2 columns (RSSTRESN, VISITNUM)"]
    assert not_numbers(got) == []
    # the sheet's na_values decide instead: '.' is then not detected, and reported as not a number
    got = ingest_trial(tmp_path, "sdtm-csv", Reading(na_values=("NA",)))
    assert ("rs.csv", "RSSTRESN", ".") in not_numbers(got)


# --- Excel -----------------------------------------------------------------------------------

# Excel "CSV UTF-8" in a European locale: BOM, CRLF, ';' and decimal commas
EXCEL_DM = ("\ufeffSTUDYID;DOMAIN;USUBJID;SEX;AGE;ARM;ACTARM\r\n"
            "T;DM;T-1;F;30;Drug 5 mg;Drug 5 mg\r\nT;DM;T-2;M;41;Drug 5 mg;Drug 5 mg\r\n")
EXCEL_RS = ("\ufeffSTUDYID;DOMAIN;USUBJID;RSSEQ;RSTESTCD;RSSTRESN;VISITNUM;RSDTC\r\n"
            "T;RS;T-1;1;SALTTOT;12,5;1;2020-01-01\r\nT;RS;T-1;2;SALTTOT;0,25;2;2020-02-01\r\n"
            "T;RS;T-2;1;SALTTOT;100;1;2020-01-02\r\nT;RS;T-2;2;SALTTOT;1,234;2;2020-02-02\r\n")


def test_excel_european_decimal_commas_are_read(tmp_path):
    write(tmp_path, "dm.csv", EXCEL_DM)
    write(tmp_path, "rs.csv", EXCEL_RS)
    got = ingest_trial(tmp_path, "sdtm-csv")
    rs = got.tables["rs"]
    assert rs["RSSTRESN"].to_list() == [12.5, 0.25, 100.0, 1.234]  # 12,5 shows the comma is no thousands separator
    assert rs["VISITNUM"].to_list() == [1.0, 2.0, 1.0, 2.0] and got.tables["dm"]["AGE"].to_list() == [30.0, 41.0]
    assert rs["RSDTC"].to_list()[0] == "2020-01-01" and got.tables["dm"]["ACTARM"].to_list() == ["Drug 5 mg"] * 2
    assert notices(got) == [f"decimal commas read in 1 column (RSSTRESN) ('12,5' as 12.5); set decimal in {SHEET} "
                            "to read them otherwise"]
    assert not_numbers(got) == []


def test_excel_cp1252_with_decimal_commas_through_the_careful_reader(tmp_path):
    """Excel's 'CSV (semicolon separated)' is cp1252 text: the careful reader applies the dialect too."""
    write(tmp_path, "dm.csv", EXCEL_DM)
    write(tmp_path, "ex.csv", "STUDYID;DOMAIN;USUBJID;EXSEQ;EXTRT;EXDOSE;EXSTDTC\r\n"
                              "T;EX;T-1;1;Tofacitinib – oral;2,5;2020-01-01\r\n".encode("cp1252"))
    got = ingest_trial(tmp_path, "sdtm-csv")
    assert got.tables["ex"]["EXDOSE"].to_list() == [2.5]
    assert got.tables["ex"]["EXTRT"].to_list() == ["Tofacitinib – oral"]
    assert notices(got, "ex.csv")[1] == (f"decimal commas read in 1 column (EXDOSE) ('2,5' as 2.5); set decimal in "
                                         f"{SHEET} to read them otherwise")


def test_commas_that_may_be_thousands_separators_are_refused_naming_decimal(tmp_path):
    write(tmp_path, "dm.csv", EXCEL_DM)
    write(tmp_path, "rs.csv", EXCEL_RS.replace("12,5", "12").replace("0,25", "25"))
    with pytest.raises(InputError) as exc:
        ingest_trial(tmp_path, "sdtm-csv")
    assert str(exc.value) == (
        f"{tmp_path / 'rs.csv'}: RSSTRESN holds '1,234' (data row 4): a comma followed by three digits may be a "
        f"decimal comma or a thousands separator, and no number in the file shows which; add decimal=, to {SHEET} "
        f"if it is the decimal mark, or decimal=. if it is not (such values are then reported as not numbers)")
    got = ingest_trial(tmp_path, "sdtm-csv", Reading(decimal=","))
    assert got.tables["rs"]["RSSTRESN"].to_list() == [12.0, 25.0, 100.0, 1.234]
    assert notices(got) == [f"decimal commas read in 1 column (RSSTRESN) ('1,234' as 1.234), as decimal=, in "
                            f"{SHEET} says"]
    got = ingest_trial(tmp_path, "sdtm-csv", Reading(decimal="."))
    assert got.tables["rs"]["RSSTRESN"].to_list() == [12.0, 25.0, 100.0, None]
    assert not_numbers(got) == [("rs.csv", "RSSTRESN", "1,234")] and notices(got) == []


def test_numbers_written_both_ways_are_refused(tmp_path):
    write(tmp_path, "dm.csv", EXCEL_DM)
    write(tmp_path, "rs.csv", EXCEL_RS.replace(";2;2020-02-01", ";2.5;2020-02-01"))
    with pytest.raises(InputError) as exc:
        ingest_trial(tmp_path, "sdtm-csv")
    assert str(exc.value) == (
        f"{tmp_path / 'rs.csv'}: numbers are written with a decimal comma (RSSTRESN '12,5', data row 1) and with a "
        f"decimal point (VISITNUM '2.5', data row 2); add decimal=, or decimal=. to {SHEET} to say which is the "
        f"decimal mark (numbers written the other way are then refused or reported as not numbers)")
    with pytest.raises(InputError, match=r"VISITNUM holds '2\.5' \(data row 2\) with a decimal point, but .* sets "
                                         r"decimal=, .*correct the value, or set decimal=\."):
        ingest_trial(tmp_path, "sdtm-csv", Reading(decimal=","))
    got = ingest_trial(tmp_path, "sdtm-csv", Reading(decimal="."))  # commas reported, never a wrong number
    assert got.tables["rs"]["RSSTRESN"].to_list() == [None, None, 100.0, None]
    assert [v for _, _, v in not_numbers(got)] == ["12,5", "0,25", "1,234"]


def test_a_comma_delimited_file_keeps_quoted_commas_unless_the_sheet_says(tmp_path):
    write(tmp_path, "dm.csv", 'STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM\nT,DM,T-1,F,"30,5",Drug,Drug\n')
    assert not_numbers(ingest_trial(tmp_path, "sdtm-csv")) == [("dm.csv", "AGE", "30,5")]
    assert ingest_trial(tmp_path, "sdtm-csv", Reading(decimal=",")).tables["dm"]["AGE"].to_list() == [30.5]


# --- pandas ----------------------------------------------------------------------------------

DM_FRAME = pd.DataFrame({"STUDYID": "T", "DOMAIN": "DM", "USUBJID": ["T-1", "T-2", "T-3"], "SEX": ["F", "M", "F"],
                         "AGE": [30.0, float("nan"), 52.0], "ARM": "Drug", "ACTARM": "Drug"})


def test_pandas_to_csv_with_its_index(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    DM_FRAME.to_csv(tmp_path / "dm.csv")  # index=True, NaN as an empty field, AGE as 30.0
    assert (tmp_path / "dm.csv").read_text().startswith(",STUDYID,DOMAIN")
    got = ingest_trial(tmp_path, "sdtm-csv")
    dm = got.tables["dm"]
    assert dm["USUBJID"].to_list() == ["T-1", "T-2", "T-3"] and dm["AGE"].to_list() == [30.0, None, 52.0]
    assert dm.columns[:3] == ["STUDYID", "DOMAIN", "USUBJID"]
    assert notices(got) == ["first column has no name and holds 0, 1, 2, ...: pandas' row index (to_csv without "
                            "index=False); dropped"]


def test_a_blank_first_name_that_is_no_row_index_stays_an_error(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    DM_FRAME.iloc[[0, 2]].to_csv(tmp_path / "dm.csv")  # a filtered frame: its index is 0, 2
    with pytest.raises(InputError, match=r"dm\.csv: blank column name\(s\) at position 1 \(a first column without "
                                         r"a name is dropped as a row index only if"):
        ingest_trial(tmp_path, "sdtm-csv")


# --- the split gives what a whole read gives -------------------------------------------------

def r_csv2_trial(folder, subjects=8, late_text_na=False):
    """write.csv2 (';', decimal commas, NA bare, text quoted), with row names; RS rows enough for
    many small batches. late_text_na: a readr-like file (nothing quoted) whose only NA, in a text
    column, is in its last row."""
    ids = [f"T-{k:02d}" for k in range(1, subjects + 1)]
    dm = ['"";"STUDYID";"DOMAIN";"USUBJID";"SEX";"AGE";"ARM";"ACTARM"']
    dm += [f'"{i}";"T";"DM";"{u}";"F";{"NA" if i == 3 else 30 + i};"Drug";"Drug"' for i, u in enumerate(ids, 1)]
    rs, n = ['"";"STUDYID";"DOMAIN";"USUBJID";"RSSEQ";"RSTESTCD";"RSSTRESN";"VISITNUM";"RSDTC"'], 0
    for u in ids:
        for visit in range(1, 6):
            n += 1
            value = "NA" if n == 37 else f"{n % 7},5"
            rs.append(f'"{n}";"T";"RS";"{u}";{visit};"SALTTOT";{value};{visit};"2020-01-{visit:02d}"')
    if late_text_na:
        rs = [line.replace('"', "").split(";", 1)[1] for line in rs]
        rs = [line.replace(";NA;", ";0,5;") for line in rs] + [f"T;RS;{ids[-1]};6;NA;1,5;6;2020-01-06"]
    write(folder, "dm.csv", "\n".join(dm) + "\n")
    write(folder, "rs.csv", "\n".join(rs) + "\n")


def _split(folder, outdir, n_parts, monkeypatch):
    import regrowth.partition.split as split
    from regrowth.parquet_io import write_table

    monkeypatch.setattr(split, "BATCH_BYTES", 256)  # many batches: the NA and the commas in later ones
    files, issues = split.split_export(folder, "sdtm-csv", n_parts, outdir / "parts")
    write_table(files, outdir / "files.parquet", {})
    write_table(issues, outdir / "issues.parquet", {})
    return [ingest_partition(outdir / "files.parquet", outdir / "parts", f"{k:03d}", outdir / "issues.parquet")
            for k in range(n_parts)]


def _text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def test_split_reads_the_dialect_as_a_whole_read(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    r_csv2_trial(folder)
    whole = ingest_trial(folder, "sdtm-csv")
    parts = _split(folder, tmp_path / "split", 2, monkeypatch)
    assert all(p.tables["dm"].height for p in parts)  # really split
    for d in ("dm", "rs"):
        joined = pl.concat([_text(p.tables[d]) for p in parts])
        assert joined.equals(_text(whole.tables[d])), d
    rs = whole.tables["rs"]
    assert rs["RSSTRESN"].to_list()[:3] == [1.5, 2.5, 3.5] and rs["RSSTRESN"].null_count() == 1
    assert whole.tables["dm"]["AGE"].to_list()[:4] == [31.0, 32.0, None, 34.0]
    assert notices(parts[0]) == notices(whole) == [
        "first column has no name and holds 1, 2, 3, ...: R's row names (write.csv without row.names=FALSE); dropped",
        "NA read as missing in 1 column (AGE): R's missing value, written bare (a quoted \"NA\" stays text)",
        "first column has no name and holds 1, 2, 3, ...: R's row names (write.csv without row.names=FALSE); dropped",
        "NA read as missing in 1 column (RSSTRESN): R's missing value, written bare (a quoted \"NA\" stays text)",
        f"decimal commas read in 1 column (RSSTRESN) ('1,5' as 1.5); set decimal in {SHEET} to read them otherwise"]
    assert notices(parts[1]) == []


def test_split_refuses_a_late_ambiguous_na_as_a_whole_read_does(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    r_csv2_trial(folder, late_text_na=True)
    with pytest.raises(InputError) as whole:
        ingest_trial(folder, "sdtm-csv")
    assert "rs.csv: a bare NA is in text column RSTESTCD (first in data row 41)" in str(whole.value)
    with pytest.raises(InputError) as split:
        _split(folder, tmp_path / "split", 2, monkeypatch)
    assert str(split.value) == str(whole.value)


def test_readr_supp_idvar_na_is_missing(tmp_path):
    """IDVAR names a variable, and no SDTM variable is named NA: a bare NA there is missing, and
    shows that NA in the file's text columns is missing too."""
    write(tmp_path, "dm.csv", READR_DM)
    write(tmp_path, "suppdm.csv", "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\n"
                                  "T,DM,T-2,NA,NA,RACEOTH,Race other,Maori\n")
    got = ingest_trial(tmp_path, "sdtm-csv")
    assert got.tables["dm"]["RACEOTH"].to_list() == [None, "Maori"]
    assert notices(got, "suppdm.csv") == ["NA read as missing in 2 columns (IDVAR, IDVARVAL): R's missing value, "
                                          "written bare (a quoted \"NA\" stays text)"]


def test_sheet_decimal_comma_refuses_a_decimal_point(tmp_path):
    write(tmp_path, "dm.csv", EXCEL_DM.replace(";30;", ";1.234;"))
    with pytest.raises(InputError) as exc:
        ingest_trial(tmp_path, "sdtm-csv", Reading(decimal=","))
    assert str(exc.value) == (
        f"{tmp_path / 'dm.csv'}: AGE holds '1.234' (data row 1) with a decimal point, but {SHEET} sets decimal=, "
        f"and a point may then be a thousands separator; correct the value, or set decimal=. if the file's "
        f"decimal mark is the point")
    assert ingest_trial(tmp_path, "sdtm-csv").tables["dm"]["AGE"].to_list() == [1.234, 41.0]  # detected: points
