"""Reports of in-process runs (regrowth.trial.run_trial), built as the report job builds them."""

from pathlib import Path

import pandas as pd


def report_html(runs: dict, definitions: dict | None = None) -> str:
    """The report of in-process runs {trial_id: (TrialRun, eot_week)}, as the report job builds it."""
    from regrowth.report.build import TrialData, build_report, eot_description
    from regrowth.summarize.tables import combine_trials
    from regrowth.trial import definitions_with_defaults

    defs = definitions_with_defaults(definitions)
    trials, tables = [], {}
    for trial_id, (r, eot_week) in runs.items():
        trials.append(TrialData(trial_id, trial_id, "sdtm-csv", eot_week, r.checked.issues, r.checked.ingested.files,
                                accounting=r.checked.gated.accounting, eot_rule=eot_description(eot_week, defs)))
        for name, table in r.tables.items():
            # the run's tables carry the folder's name as trial_id: as the sheet's trial_id
            tables.setdefault(name, []).append(table.assign(trial_id=trial_id) if len(table) else table)
    t = {name: combine_trials(parts) for name, parts in tables.items()}
    published = pd.read_csv(Path(__file__).parents[1] / "resources/reference/published_results.csv", dtype=str,
                            keep_default_na=False)
    return build_report(trials=trials, tables=t, published=published, definitions=defs,
                        versions={"regrowth": "test"},
                        provenance={"code": {"git_commit": "test", "git_dirty": False}, "config": "", "rules": []})
