"""Write canonical tables as SDTM datasets: SAS XPORT v5 (one .xpt per domain) or CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyreadstat

from regrowth.model import DOMAINS

# XPORT headers stamp the creation time ('26NOV26:06:40:05'); a fixed stamp makes the
# bytes reproducible. Only header records are touched, never the data that follows.
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD"


def _fixed_stamp(data: bytes, stamp: bytes) -> bytes:
    out, pos = [], 0
    while True:
        obs = data.find(_OBS_HEADER, pos)
        head_end = len(data) if obs < 0 else obs + len(_OBS_HEADER)
        out.append(_STAMP.sub(stamp, data[pos:head_end]))
        if obs < 0:
            return b"".join(out)
        # skip the data block up to the next member header (or the end)
        nxt = data.find(b"HEADER RECORD*******MEMBER  HEADER RECORD", head_end)
        stop = len(data) if nxt < 0 else nxt
        out.append(data[head_end:stop])
        if nxt < 0:
            return b"".join(out)
        pos = nxt


def write_xpt(df: pd.DataFrame, path: Path, domain: str, stamp: str = "01JAN16:00:00:00") -> None:
    frame = df.copy()
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].astype("object").where(frame[col].notna(), "")
    labels = {c: c for c in frame.columns}
    pyreadstat.write_xport(
        frame, str(path), table_name=domain.upper(), file_format_version=5, column_labels=labels
    )
    path.write_bytes(_fixed_stamp(path.read_bytes(), stamp.encode()))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def export_sdtm(tables: dict[str, pd.DataFrame], outdir: Path, fmt: str = "xpt") -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DOMAINS:
        if name not in tables:
            continue
        df = tables[name].dropna(axis=1, how="all")  # sponsors omit permissible empty variables
        path = outdir / f"{name}.{fmt}"
        if fmt == "xpt":
            write_xpt(df, path, name)
        elif fmt == "csv":
            write_csv(df, path)
        else:
            raise ValueError(f"unknown SDTM export format {fmt!r}")
        written.append(path)
    return written
