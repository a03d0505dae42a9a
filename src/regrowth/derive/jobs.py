"""The derive_* jobs: each derivation from its Parquet inputs, checked against its contract.
workflow/scripts/derive_*.py call derive_job; they import nothing else of the package."""

from __future__ import annotations


def derive_job(table: str, inputs, where: str | None = None, **settings):
    """The polars frame of `table` (adsl, adae, adsalt, adtte) from `inputs` (name -> Parquet
    path: dm, ex, ds, mh, rs, sv, ae, adsl, adsalt as the table needs), contract checked;
    `settings`: the derivation's keyword settings (derive.Settings.adsl() and the like).

    The ADSALT job derives the SALT records itself (ADSL's job derives those of the visits up to
    first dose only, for the baseline) and flags baseline on every parameter itself: ADSL holds
    only the total's baseline, and reading it would not spare the flag."""
    from regrowth.derive.contracts import check_contract
    from regrowth.parquet_io import read_frame

    from regrowth.derive.salt import RS_COLUMNS

    where = where or f"{table}.parquet"
    if table == "adsl":
        from regrowth.derive.adsl import derive_adsl

        # of RS, what the SALT records and the last visit dates read: a third of its columns
        tables = {n: read_frame(inputs[n], columns=RS_COLUMNS if n == "rs" else None)
                  for n in ("dm", "ex", "ds", "mh", "rs", "sv")}
        out = derive_adsl(*tables.values(), **settings)
        return check_contract(out, "adsl", where=where)
    adsl = read_frame(inputs["adsl"])
    if table == "adae":
        from regrowth.derive.adae import derive_adae

        return check_contract(derive_adae(read_frame(inputs["ae"]), adsl, **settings), "adae", adsl=adsl, where=where)
    if table == "adsalt":
        from regrowth.derive.adsalt import derive_adsalt

        out = derive_adsalt(read_frame(inputs["rs"], columns=RS_COLUMNS), adsl, **settings)
        return check_contract(out, "adsalt", adsl=adsl, where=where)
    if table == "adtte":
        from regrowth.derive.adtte import DEFAULT_TIME_TO_EVENT, adtte_paramcds_of, derive_adtte, read_adsalt

        out = derive_adtte(adsl, read_adsalt(inputs["adsalt"]), **settings)
        paramcds = adtte_paramcds_of(settings.get("time_to_event") or DEFAULT_TIME_TO_EVENT,
                                     settings["responder_endpoint"])
        return check_contract(out, "adtte", adsl=adsl, paramcds=paramcds, where=where)
    raise ValueError(f"no derivation of {table!r}")
