"""Derive: ADaM-style analysis tables (ADSL, ADSALT, ADTTE, ADAE), admiral style.

Each derive_var_* adds one variable, derive_vars_* several, derive_param_* adds records;
data frame in, data frame out; required columns checked first; duplicate keys fail loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The row order of each analysis table (stable sort). All start with USUBJID: parts (blocks of
# sorted subjects) read one after the other give the table in this order.
ORDER = {
    "adsl": ["USUBJID"],
    "adsalt": ["USUBJID", "PARAMCD", "ADT", "VISITNUM"],
    "adtte": ["USUBJID", "PARAMCD"],
    "adae": ["USUBJID", "AESEQ"],
}


@dataclass(frozen=True)
class Settings:
    """What the whole-trial rules get as params (config definitions, the trial's policy)."""

    policy: str
    window_days: int
    endpoints: list[dict]
    grid_weeks: int
    eot_week: int | None
    relapse: dict
    teae_window_days: int
    baseline: str = "on_or_before_first_dose"
    eot_window_days: int = 14  # end_of_treatment.window_days_after_last_dose (no eot_week)
    data_cut: str | None = None

    def adsalt(self) -> dict:
        """What derive_adsalt takes of the settings."""
        return {"endpoints": self.endpoints, "grid_weeks": self.grid_weeks, "window_days": self.window_days,
                "eot_week": self.eot_week, "baseline": self.baseline, "eot_window_days": self.eot_window_days}


def derive_analysis_tables(sdtm: dict, settings: Settings, write: Callable[[str, object], None]) -> None:
    """ADSL, ADAE, ADSALT and ADTTE from accepted SDTM, as the derive_* rules make them, each
    checked against its contract (derive.contracts) before it is written.

    Takes the tables out of `sdtm` as it is done with them: RS, ~0.8 GB in a 50,000-subject
    part, is freed (once written) as soon as its SALT records are taken, before ADSALT's and
    ADTTE's copies, the steps of the highest memory (derive_adsalt in two steps).
    """
    from regrowth.derive.adae import derive_adae
    from regrowth.derive.adsalt import adsalt_from_records
    from regrowth.derive.adsl import derive_adsl
    from regrowth.derive.adtte import analysed_adsalt, derive_adtte
    from regrowth.derive.contracts import adtte_paramcds, check_contract
    from regrowth.derive.salt import salt_records

    adsl = derive_adsl(sdtm["dm"], sdtm["ex"], sdtm["ds"], sdtm["mh"], sdtm["rs"], sdtm["sv"],
                       data_cut=settings.data_cut, baseline=settings.baseline)
    adsl = check_contract(adsl, "adsl", where="this part's ADSL")
    write("adsl", adsl)
    adae = derive_adae(sdtm.pop("ae"), adsl, window_days=settings.teae_window_days)
    write("adae", check_contract(adae, "adae", adsl=adsl, where="this part's ADAE"))
    del adae
    records = salt_records(sdtm.pop("rs"))
    adsalt = adsalt_from_records(records, adsl, **settings.adsalt())
    del records
    write("adsalt", check_contract(adsalt, "adsalt", adsl=adsl, where="this part's ADSALT"))
    endpoint = settings.relapse["responder_endpoint"]
    adtte = derive_adtte(adsl, analysed_adsalt(adsalt), endpoints=settings.endpoints, responder_endpoint=endpoint,
                         fraction_lost=settings.relapse["fraction_of_regrowth_lost"])
    write("adtte", check_contract(adtte, "adtte", adsl=adsl, paramcds=adtte_paramcds(endpoint),
                                  where="this part's ADTTE"))
