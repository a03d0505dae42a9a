"""Every analysis table of one part in one process (tests, benchmarks and regrowth.trial.run_trial);
the workflow runs one job per table (workflow/rules/derive.smk) with the same functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


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
    time_to_event: list[dict] | None = field(default=None)  # definitions.time_to_event (None: the default)

    def adsl(self) -> dict:
        """What derive_adsl takes of the settings."""
        return {"data_cut": self.data_cut, "baseline": self.baseline}

    def adae(self) -> dict:
        return {"window_days": self.teae_window_days}

    def adsalt(self) -> dict:
        """What derive_adsalt takes of the settings."""
        return {"endpoints": self.endpoints, "grid_weeks": self.grid_weeks, "window_days": self.window_days,
                "eot_week": self.eot_week, "baseline": self.baseline, "eot_window_days": self.eot_window_days}

    def adtte(self) -> dict:
        """What derive_adtte takes of the settings."""
        return {"endpoints": self.endpoints, "responder_endpoint": self.relapse["responder_endpoint"],
                "fraction_lost": self.relapse["fraction_of_regrowth_lost"], "time_to_event": self.time_to_event}

    def adtte_paramcds(self) -> tuple[str, ...]:
        from regrowth.derive.adtte import DEFAULT_TIME_TO_EVENT, adtte_paramcds_of

        return adtte_paramcds_of(self.time_to_event or DEFAULT_TIME_TO_EVENT, self.relapse["responder_endpoint"])


def settings_from_definitions(defs: dict, *, eot_week: int | None, data_cut: str | None = None,
                              policy: str = "strict") -> Settings:
    """Settings from config definitions (defaults filled in) and a trial's sheet values."""
    return Settings(policy=policy, window_days=defs["visit_window_days"], endpoints=defs["endpoints"],
                    grid_weeks=defs["visit_grid_weeks"], eot_week=eot_week, relapse=defs["relapse"],
                    teae_window_days=defs["teae_window_days"], baseline=defs["baseline"],
                    eot_window_days=defs["end_of_treatment"]["window_days_after_last_dose"], data_cut=data_cut,
                    time_to_event=defs.get("time_to_event"))


def derive_analysis_tables(sdtm: dict, settings: Settings, write: Callable[[str, object], None]) -> None:
    """ADSL, ADAE, ADSALT and ADTTE (polars frames) from accepted SDTM (polars, or pandas frames
    converted here), as the derive_* rules make them, each checked against its contract
    (derive.contracts) before it is written.

    RS's SALT records are derived once, for ADSL's baseline and for ADSALT. Takes the tables out
    of `sdtm` as it is done with them: RS is freed as soon as its SALT records are taken, before
    ADSALT's and ADTTE's copies, the steps of the highest memory.
    """
    from regrowth.derive.adae import derive_adae
    from regrowth.derive.adsalt import adsalt_from_records
    from regrowth.derive.adsl import derive_adsl
    from regrowth.derive.adtte import analysed_adsalt, derive_adtte
    from regrowth.derive.contracts import check_contract
    from regrowth.derive.salt import salt_records
    from regrowth.derive.tables import polars_frame

    sdtm = {name: polars_frame(table) for name, table in sdtm.items()}
    records = salt_records(sdtm["rs"])
    adsl = derive_adsl(sdtm.pop("dm"), sdtm.pop("ex"), sdtm.pop("ds"), sdtm.pop("mh"), sdtm["rs"], sdtm.pop("sv"),
                       data_cut=settings.data_cut, baseline=settings.baseline, records=records)
    del sdtm["rs"]
    adsl = check_contract(adsl, "adsl", where="this part's ADSL")
    write("adsl", adsl)
    adae = derive_adae(sdtm.pop("ae"), adsl, window_days=settings.teae_window_days)
    write("adae", check_contract(adae, "adae", adsl=adsl, where="this part's ADAE"))
    del adae
    adsalt = adsalt_from_records(records, adsl, **settings.adsalt())
    del records
    write("adsalt", check_contract(adsalt, "adsalt", adsl=adsl, where="this part's ADSALT"))
    adtte = derive_adtte(adsl, analysed_adsalt(adsalt), **settings.adtte())
    write("adtte", check_contract(adtte, "adtte", adsl=adsl, paramcds=settings.adtte_paramcds(),
                                  where="this part's ADTTE"))
