"""Write canonical tables as CDISC Dataset-JSON v1.1 (.json, or .ndjson for large datasets)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from regrowth.model import DOMAINS

# Fixed creation time: the data cut of the simulated export, so the bytes are reproducible.
CREATED = "2020-06-30T00:00:00"
DECIMAL_COLUMNS = {"RSSTRESN"}  # written as decimal text, as Dataset-JSON does for exact decimals


def _column(name: str, series: pd.Series, domain: str, key: list[str]) -> dict:
    col = {"itemOID": f"IT.{domain.upper()}.{name}", "name": name, "label": name}
    if name in DECIMAL_COLUMNS:
        col.update(dataType="decimal", targetDataType="decimal")
    elif pd.api.types.is_numeric_dtype(series):
        values = series.dropna()
        integral = bool(len(values)) and bool(np.all(np.mod(values, 1) == 0))
        col["dataType"] = "integer" if integral else "double"
    elif name.endswith("DTC"):
        col["dataType"] = "date"
    else:
        col["dataType"] = "string"
        lengths = series.dropna().astype("str").str.len()
        col["length"] = int(lengths.max()) if len(lengths) else 1
    if name in key:
        col["keySequence"] = key.index(name) + 1
    return col


def _value(v, col: dict):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if col["dataType"] == "decimal":
        return f"{v:g}"
    if col["dataType"] == "integer":
        return int(v)
    if col["dataType"] == "double":
        return float(v)
    return str(v)


def write_dataset_json(df: pd.DataFrame, path: Path, domain: str, study: str, ndjson: bool = False) -> None:
    key = list(DOMAINS[domain].keys)
    columns = [_column(c, df[c], domain, key) for c in df.columns]
    rows = [[_value(v, col) for v, col in zip(rec, columns)] for rec in df.itertuples(index=False, name=None)]
    meta = {
        "datasetJSONCreationDateTime": CREATED, "datasetJSONVersion": "1.1.0",
        "fileOID": f"{study}.{domain.upper()}", "originator": "regrowth simulator",
        "sourceSystem": {"name": "regrowth", "version": "1"}, "studyOID": study,
        "metaDataVersionOID": "MDV.1", "itemGroupOID": f"IG.{domain.upper()}", "records": len(rows),
        "name": domain.upper(), "label": domain.upper(), "columns": columns,
    }
    if ndjson:
        lines = [json.dumps(meta, ensure_ascii=False)] + [json.dumps(r, ensure_ascii=False) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps({**meta, "rows": rows}, ensure_ascii=False) + "\n", encoding="utf-8")


def export_dataset_json(tables: dict[str, pd.DataFrame], outdir: Path, ndjson_domains=("rs",)) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DOMAINS:
        if name not in tables:
            continue
        df = tables[name].dropna(axis=1, how="all")
        nd = name in ndjson_domains
        path = outdir / f"{name}.{'ndjson' if nd else 'json'}"
        write_dataset_json(df, path, name, df["STUDYID"].iloc[0] if len(df) else "STUDY", ndjson=nd)
        written.append(path)
    return written
