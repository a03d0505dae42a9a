"""Real-world SDTM quirks, each on a small file made here."""

import pandas as pd
import polars as pl
import pytest

from regrowth.derive.adsl import derive_adsl
from regrowth.errors import InputError
from regrowth.ingest import ingest_trial
from regrowth.simulate.export_sdtm import write_xpt

DM = "STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM\nT,DM,T-1,F,30,Drug,Drug\nT,DM,T-2,M,41,Drug,Drug\n"


def write(folder, name, data: bytes | str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


@pytest.mark.parametrize("variant", ["semicolon", "tab", "bom_crlf"])
def test_delimiters_bom_crlf(tmp_path, variant):
    text = {"semicolon": DM.replace(",", ";"), "tab": DM.replace(",", "\t"),
            "bom_crlf": "\ufeff" + DM.replace("\n", "\r\n")}[variant]
    write(tmp_path, "DM.CSV", text)
    dm = ingest_trial(tmp_path, "sdtm-csv").tables["dm"]
    assert dm["USUBJID"].to_list() == ["T-1", "T-2"] and dm["AGE"].to_list() == [30.0, 41.0]
    assert dm["ACTARM"].to_list() == ["Drug", "Drug"]  # no stray '\r'


def test_cp1252_text_is_read_with_a_notice(tmp_path):
    write(tmp_path, "dm.csv", DM.encode())
    ae = "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM\nT,AE,T-1,1,Ekz\xe9ma \x96 mild\n".encode("latin-1")
    write(tmp_path, "ae.csv", ae)
    got = ingest_trial(tmp_path, "sdtm-csv")
    assert got.tables["ae"]["AETERM"].to_list() == ["Ekzéma – mild"]  # 0x96 is an en dash in cp1252
    notice = got.issues.filter(pl.col("rule_id") == "RG0005")
    assert notice["file"].to_list() == ["ae.csv"] and "cp1252" in notice["message"][0]


def test_cp1252_xpt(tmp_path):
    write_xpt(pd.DataFrame({"STUDYID": ["T"], "DOMAIN": ["DM"], "USUBJID": ["T-1"], "SEX": ["F"],
                            "ARM": ["caf\u00e9"]}), tmp_path / "dm.xpt", "dm")
    raw = (tmp_path / "dm.xpt").read_bytes().replace("café".encode(), b"caf\xe9 ")
    (tmp_path / "dm.xpt").write_bytes(raw)
    got = ingest_trial(tmp_path, "sdtm-xpt")
    assert got.tables["dm"]["ARM"].to_list() == ["café"]
    assert "RG0005" in set(got.issues["rule_id"])


@pytest.mark.parametrize("content,message", [
    (b"\x00\x01\x02binary\x00junk", "binary content"),
    (b"", "empty"),
    (b"\n\nSTUDYID,USUBJID\n", "no header line"),
    ("STUDYID,,USUBJID\nT,x,T-1\n", "blank column name"),
    ("STUDYID,USUBJID,usubjid\nT,T-1,T-1\n", "duplicate column name"),
])
def test_unreadable_csv_names_the_file_and_reason(tmp_path, content, message):
    write(tmp_path, "dm.csv", content)
    with pytest.raises(InputError, match=message) as exc:
        ingest_trial(tmp_path, "sdtm-csv")
    assert "dm.csv" in str(exc.value)


def test_salt_in_qs_is_mapped_to_rs(tmp_path):
    write(tmp_path, "dm.csv", DM)
    write(tmp_path, "qs.csv", "STUDYID,DOMAIN,USUBJID,QSSEQ,QSCAT,QSTESTCD,QSSTRESN,QSSTRESU,VISITNUM,QSDTC\n"
                              "T,QS,T-1,1,SALT,SALTTOT,62.5,%,1,2020-01-01\n"
                              "T,QS,T-1,2,HADS,HADS01,3,,1,2020-01-01\n")
    rs = ingest_trial(tmp_path, "sdtm-csv").tables["rs"]
    assert rs["RSTESTCD"].to_list() == ["SALTTOT"] and rs["RSSTRESN"].to_list() == [62.5]
    assert rs["RSDTC"].to_list() == ["2020-01-01"] and rs["DOMAIN"].to_list() == ["RS"]
    assert rs["SRCFILE"].to_list() == ["qs.csv"] and rs["SRCROW"].to_list() == [1.0]


def test_supp_qualifiers_are_merged(tmp_path):
    write(tmp_path, "dm.csv", DM)
    write(tmp_path, "ae.csv", "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM\nT,AE,T-1,1,rash\nT,AE,T-1,2,cough\n")
    write(tmp_path, "suppae.csv", "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\n"
                                  "T,AE,T-1,AESEQ,2,AETRTEM,Treatment Emergent,Y\n")
    write(tmp_path, "suppdm.csv", "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\n"
                                  "T,DM,T-2,,,RACEOTH,Race other,Maori\n")
    t = ingest_trial(tmp_path, "sdtm-csv").tables
    assert t["ae"]["AETRTEM"].to_list() == [None, "Y"]
    assert t["dm"]["RACEOTH"].to_list() == [None, "Maori"]


def test_null_arm_with_armnrs_is_a_screen_failure(tmp_path):
    write(tmp_path, "dm.csv", "STUDYID,DOMAIN,USUBJID,SEX,ARM,ACTARM,ARMNRS\n"
                              "T,DM,T-1,F,Drug,Drug,\nT,DM,T-2,M,,,SCREEN FAILURE\n")
    write(tmp_path, "ex.csv", "STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXSTDTC,EXENDTC\nT,EX,T-1,1,DRUG,2020-01-01,2020-02-01\n")
    t = ingest_trial(tmp_path, "sdtm-csv").as_pandas().tables  # derive_adsl takes pandas (for now)
    adsl = derive_adsl(t["dm"], t["ex"], t["ds"], t["mh"], t["rs"]).set_index("USUBJID")
    assert adsl.loc["T-2", "ITTFL"] == "N" and adsl.loc["T-2", "SAFFL"] == "N"
    assert adsl.loc["T-1", "ITTFL"] == "Y" and adsl.loc["T-1", "SAFFL"] == "Y"
