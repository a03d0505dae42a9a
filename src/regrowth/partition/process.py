"""One partition of a split trial, from its split files to its analysis tables, in one process.

Run as separate jobs, the per-subject stages of a partition (ingest, validate, accept, four
derivations) start seven processes and read every stage's tables back from Parquet. On a
50,000-subject partition that took about 28 s; in one process, keeping the tables in memory
and writing each output in a background thread while the next stage computes, about 16 s.
The stages are the same library functions the whole-trial rules call, in the same order, so a
split trial's combined tables equal an unsplit run's (tests/test_partition.py).

The price: a changed definition or code reruns a partition's whole chain, ingest included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from regrowth.csv_safe import write_safe_csv
from regrowth.derive.adae import derive_adae
from regrowth.derive.adsalt import adsalt_from_records
from regrowth.derive.adsl import derive_adsl
from regrowth.derive.adtte import analysed_adsalt, derive_adtte
from regrowth.derive.salt import salt_records
from regrowth.ingest import ingest_partition
from regrowth.issues import issues_as_pandas
from regrowth.validate import validate_trial
from regrowth.validate.gate import apply_policy

Write = Callable[[str, pd.DataFrame], None]  # (output name as in the rule, table)


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


def process_partition(files: str | Path, parts_dir: str | Path, split_issues: str | Path, part: str, *,
                      trial_id: str, settings: Settings, write: Write, issues_csv: str | Path) -> None:
    """Ingest, validate, gate and derive one partition; `write` receives every output by name.

    The issue list goes to `issues_csv` before the gate, so it is there to read when the
    strict policy stops the trial (a failed job's outputs are removed, its logs are kept).
    """
    ingested = ingest_partition(files, parts_dir, part, split_issues)
    issues = validate_trial(ingested.tables, ingested.issues, ingested.unmapped, window_days=settings.window_days)
    issue_table = issues_as_pandas(issues)  # validation and the gate give polars; the rest here is pandas
    write_safe_csv(issue_table, issues_csv)
    write("validation", issue_table)
    gated = apply_policy(ingested.tables, issues, ingested.files, ingested.unmapped, ingested.links,
                         policy=settings.policy, trial_id=trial_id, issues_path=str(issues_csv)).as_pandas()
    del ingested  # the accepted tables are what the derivations read
    for name, table in gated.tables.items():
        write(name, table)
    for name, table in gated.quarantine.items():
        write(f"q_{name}", table)
    write("accounting", gated.accounting)
    sdtm = gated.tables
    del gated
    derive_analysis_tables(sdtm, settings, write)


def derive_analysis_tables(sdtm: dict[str, pd.DataFrame], settings: Settings, write: Write) -> None:
    """ADSL, ADAE, ADSALT and ADTTE from accepted SDTM, as the derive_* rules make them, each
    checked against its contract (derive.contracts) before it is written.

    Takes the tables out of `sdtm` as it is done with them: RS, ~0.8 GB in a 50,000-subject
    part, is freed (once written) as soon as its SALT records are taken, before ADSALT's and
    ADTTE's copies, the steps of the highest memory (derive_adsalt in two steps).
    """
    from regrowth.derive.contracts import adtte_paramcds, check_contract

    adsl = derive_adsl(sdtm["dm"], sdtm["ex"], sdtm["ds"], sdtm["mh"], sdtm["rs"], sdtm["sv"],
                       data_cut=settings.data_cut, baseline=settings.baseline)
    adsl = check_contract(adsl, "adsl", where="this partition's ADSL")
    write("adsl", adsl)
    adae = derive_adae(sdtm.pop("ae"), adsl, window_days=settings.teae_window_days)
    write("adae", check_contract(adae, "adae", adsl=adsl, where="this partition's ADAE"))
    del adae
    records = salt_records(sdtm.pop("rs"))
    adsalt = adsalt_from_records(records, adsl, **settings.adsalt())
    del records
    write("adsalt", check_contract(adsalt, "adsalt", adsl=adsl, where="this partition's ADSALT"))
    endpoint = settings.relapse["responder_endpoint"]
    adtte = derive_adtte(adsl, analysed_adsalt(adsalt), endpoints=settings.endpoints, responder_endpoint=endpoint,
                         fraction_lost=settings.relapse["fraction_of_regrowth_lost"])
    write("adtte", check_contract(adtte, "adtte", adsl=adsl, paramcds=adtte_paramcds(endpoint),
                                  where="this partition's ADTTE"))
