"""Old against new derivations: every ADaM table, column by column (numbers exact).

Three steps, each run with the checkout whose code it should use (PYTHONPATH=<checkout>/src):

  prepare  SRC FORMAT OUT [--eot-week W] [--data-cut D] [--policy P]
           ingest, validate and gate an export; the accepted SDTM to OUT/sdtm/*.parquet
  derive   OUT NAME [--eot-week W] [--definitions JSON]
           the four derivations as the derive_* jobs run them (each from Parquet, timed, peak
           RSS per derivation in its own process), tables to OUT/NAME/*.parquet; also
           derive_analysis_tables (one process) to OUT/NAME/inproc/ where the checkout has it
  compare  OUT OLD NEW
           every table of OLD against NEW: row count, column names and order, then values
           column by column (text compared as text: dictionary or plain), exit 1 on a difference

Timings and RSS depend on the machine's load (a shared machine: figures are indicative).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TABLES = ["adsl", "adae", "adsalt", "adtte"]
SDTM = ["dm", "ex", "ds", "mh", "rs", "sv", "ae"]


def prepare(args) -> None:
    from regrowth.parquet_io import write_table
    from regrowth.trial import check_trial

    out = Path(args.out) / "sdtm"
    out.mkdir(parents=True, exist_ok=True)
    checked = check_trial(args.src, args.format, policy=args.policy)
    for name in SDTM:
        write_table(checked.gated.tables[name], out / f"{name}.parquet")


def _defaults(definitions: str | None) -> dict:
    from regrowth.trial import definitions_with_defaults

    return definitions_with_defaults(json.loads(definitions) if definitions else None)


def _is_new() -> bool:
    from importlib.util import find_spec

    return find_spec("regrowth.derive.verbs") is not None


def derive_one(args) -> None:
    """One derivation (args.table), as its workflow script does; prints seconds and peak RSS."""
    import resource

    out = Path(args.out)
    sdtm, dest = out / "sdtm", out / args.name
    dest.mkdir(parents=True, exist_ok=True)
    defs = _defaults(args.definitions)
    start = time.perf_counter()
    if _is_new():
        _derive_new(args.table, sdtm, dest, defs, args.eot_week, args.data_cut)
    else:
        _derive_old(args.table, sdtm, dest, defs, args.eot_week, args.data_cut)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"table": args.table, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb)}))


def _derive_old(table, sdtm, dest, defs, eot_week, data_cut) -> None:
    from regrowth.parquet_io import read_table, write_table

    r = lambda n: read_table(sdtm / f"{n}.parquet")  # noqa: E731
    if table == "adsl":
        from regrowth.derive.adsl import derive_adsl
        from regrowth.derive.contracts import check_contract
        t = derive_adsl(r("dm"), r("ex"), r("ds"), r("mh"), r("rs"), r("sv"), data_cut=data_cut,
                        baseline=defs["baseline"])
        check_contract(t, "adsl")
    elif table == "adae":
        from regrowth.derive.adae import derive_adae
        from regrowth.derive.contracts import check_contract
        adsl = read_table(dest / "adsl.parquet")
        t = derive_adae(r("ae"), adsl, window_days=defs["teae_window_days"])
        check_contract(t, "adae", adsl=adsl)
    elif table == "adsalt":
        from regrowth.derive.adsalt import derive_adsalt
        from regrowth.derive.contracts import check_contract
        adsl = read_table(dest / "adsl.parquet")
        t = derive_adsalt(r("rs"), adsl, endpoints=defs["endpoints"], grid_weeks=defs["visit_grid_weeks"],
                          window_days=defs["visit_window_days"], eot_week=eot_week, baseline=defs["baseline"],
                          eot_window_days=defs["end_of_treatment"]["window_days_after_last_dose"])
        check_contract(t, "adsalt", adsl=adsl)
    else:
        from regrowth.derive.adtte import derive_adtte, read_adsalt
        from regrowth.derive.contracts import adtte_paramcds, check_contract
        adsl = read_table(dest / "adsl.parquet")
        rel = defs["relapse"]
        t = derive_adtte(adsl, read_adsalt(dest / "adsalt.parquet"), endpoints=defs["endpoints"],
                         responder_endpoint=rel["responder_endpoint"], fraction_lost=rel["fraction_of_regrowth_lost"])
        check_contract(t, "adtte", adsl=adsl, paramcds=adtte_paramcds(rel["responder_endpoint"]))
    write_table(t, dest / f"{table}.parquet")


def _derive_new(table, sdtm, dest, defs, eot_week, data_cut) -> None:
    """One table as its derive_* job makes it (workflow/scripts/derive_*.py)."""
    from regrowth.derive.contracts import check_contract
    from regrowth.derive.pipeline import settings_from_definitions
    from regrowth.parquet_io import read_frame, write_frame

    settings = settings_from_definitions(defs, eot_week=eot_week, data_cut=data_cut)
    read = {n: (lambda n=n: read_frame(sdtm / f"{n}.parquet")) for n in SDTM}
    read |= {n: (lambda n=n: read_frame(dest / f"{n}.parquet")) for n in ("adsl", "adsalt")}
    if table == "adsl":
        from regrowth.derive.adsl import derive_adsl

        out = derive_adsl(*(read[n]() for n in ("dm", "ex", "ds", "mh", "rs", "sv")), **settings.adsl())
        write_frame(check_contract(out, "adsl"), dest / "adsl.parquet")
        return
    adsl = read["adsl"]()
    if table == "adae":
        from regrowth.derive.adae import derive_adae

        out, extra = derive_adae(read["ae"](), adsl, **settings.adae()), {}
    elif table == "adsalt":
        from regrowth.derive.adsalt import derive_adsalt

        out, extra = derive_adsalt(read["rs"](), adsl, **settings.adsalt()), {}
    else:
        from regrowth.derive.adtte import derive_adtte, read_adsalt

        out = derive_adtte(adsl, read_adsalt(dest / "adsalt.parquet"), **settings.adtte())
        extra = {"paramcds": settings.adtte_paramcds()}
    write_frame(check_contract(out, table, adsl=adsl, **extra), dest / f"{table}.parquet")


def derive_in_process(args) -> None:
    from regrowth.derive.pipeline import derive_analysis_tables, settings_from_definitions
    from regrowth.parquet_io import read_frame, write_frame

    out = Path(args.out)
    dest = out / args.name / "inproc"
    dest.mkdir(parents=True, exist_ok=True)
    settings = settings_from_definitions(_defaults(args.definitions), eot_week=args.eot_week, data_cut=args.data_cut)
    sdtm = {n: read_frame(out / "sdtm" / f"{n}.parquet") for n in SDTM}
    start = time.perf_counter()
    derive_analysis_tables(sdtm, settings, lambda name, t: write_frame(t, dest / f"{name}.parquet"))
    print(json.dumps({"table": "derive_analysis_tables", "seconds": round(time.perf_counter() - start, 2)}))


def derive(args) -> None:
    base = [sys.executable, __file__]
    extra = (["--eot-week", str(args.eot_week)] if args.eot_week is not None else []) + \
        (["--data-cut", args.data_cut] if args.data_cut else []) + \
        (["--definitions", args.definitions] if args.definitions else [])
    for table in TABLES:
        subprocess.run(base + ["_one", args.out, args.name, table] + extra, check=True)
    if _is_new():
        subprocess.run(base + ["_inproc", args.out, args.name] + extra, check=True)


def _text(column):
    import pyarrow as pa

    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def compare_tables(old_path: Path, new_path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    old, new = pq.read_table(old_path), pq.read_table(new_path)
    problems = []
    if old.column_names != new.column_names:
        problems.append(f"columns differ: {old.column_names} vs {new.column_names}")
    if old.num_rows != new.num_rows:
        return problems + [f"rows: {old.num_rows} vs {new.num_rows}"]
    for name in [c for c in old.column_names if c in new.column_names]:
        a, b = _text(old[name].combine_chunks()), _text(new[name].combine_chunks())
        if pa.types.is_timestamp(a.type) and pa.types.is_timestamp(b.type) and a.type != b.type:
            note = f"{name}: {a.type} -> {b.type}"
            a, b = a.cast(pa.timestamp("ms")), b.cast(pa.timestamp("ms"))
        else:
            note = None
        if a.type != b.type and not (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)):
            problems.append(f"{name}: type {a.type} vs {b.type}")
            continue
        if a.type != b.type:
            b = b.cast(a.type)
        same_null = pc.equal(a.is_null(), b.is_null())
        equal = pc.or_kleene(pc.equal(a, b), pc.and_(a.is_null(), b.is_null()))
        if pa.types.is_floating(a.type):  # NaN is NaN
            equal = pc.or_(pc.fill_null(equal, False), pc.and_(pc.fill_null(pc.is_nan(a), False),
                                                                pc.fill_null(pc.is_nan(b), False)))
        bad = pc.invert(pc.and_(pc.fill_null(equal, False), same_null))
        n_bad = pc.sum(bad).as_py() or 0
        if n_bad:
            first = pc.indices_nonzero(bad)[0].as_py()
            problems.append(f"{name}: {n_bad} value(s) differ; first at row {first}: "
                            f"{a[first].as_py()!r} vs {b[first].as_py()!r}")
        elif note:
            problems.append(f"(type only) {note}")
    return problems


def compare(args) -> None:
    out = Path(args.out)
    failed = False
    pairs = [(t, out / args.old / f"{t}.parquet", out / args.new / f"{t}.parquet") for t in TABLES]
    pairs += [(f"{t} (in process)", out / args.old / f"{t}.parquet", out / args.new / "inproc" / f"{t}.parquet")
              for t in TABLES if (out / args.new / "inproc" / f"{t}.parquet").exists()]
    for label, old, new in pairs:
        problems = compare_tables(old, new)
        real = [p for p in problems if not p.startswith("(type only)")]
        failed |= bool(real)
        import pyarrow.parquet as pq
        rows, cols = pq.read_metadata(old).num_rows, len(pq.read_schema(old).names)
        print(f"{label}: {rows} rows x {cols} columns: {'DIFFERENT' if real else 'equal by value'}")
        for p in problems:
            print(f"    {p}")
    sys.exit(1 if failed else 0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    pr = sub.add_parser("prepare")
    pr.add_argument("src"), pr.add_argument("format"), pr.add_argument("out")
    pr.add_argument("--policy", default="strict")
    for name in ("derive", "_one", "_inproc"):
        d = sub.add_parser(name)
        d.add_argument("out"), d.add_argument("name")
        if name == "_one":
            d.add_argument("table", choices=TABLES)
        d.add_argument("--eot-week", type=int, default=None)
        d.add_argument("--data-cut", default=None)
        d.add_argument("--definitions", default=None, help="JSON: config definitions (defaults filled in)")
    c = sub.add_parser("compare")
    c.add_argument("out"), c.add_argument("old"), c.add_argument("new")
    args = p.parse_args(argv)
    {"prepare": prepare, "derive": derive, "_one": derive_one, "_inproc": derive_in_process,
     "compare": compare}[args.step](args)


if __name__ == "__main__":
    main()
