"""Command line: regenerate the bundled example exports byte for byte, or simulate trials of
any size in any supported export format (seeded: the same arguments give the same bytes).

    regrowth-simulate seed-trials --out resources/trials
    regrowth-simulate trials --trials 20 --patients 500 --format sdtm-csv --seed 7 --out sim/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regrowth.simulate.engine import simulate, simulate_arms
from regrowth.simulate.export_dataset_json import export_dataset_json
from regrowth.simulate.export_redcap import export_redcap
from regrowth.simulate.export_sdtm import export_sdtm
from regrowth.simulate.scale import TEMPLATES, data_cut, scaled_design, seeds, trial_ids
from regrowth.simulate.seed_trials import BARICITINIB, SEED_TRIALS, SEEDS

SEED_FORMATS = {"NCT01950780": "redcap", "NCT02197455": "sdtm-xpt"}
FORMATS = ("sdtm-csv", "sdtm-xpt", "dataset-json", "redcap")
SHEET_COLUMNS = ["trial_id", "format", "path", "label", "drug", "eot_week", "data_cut"]
RUXOLITINIB_ID = TEMPLATES["ruxolitinib"].trial_id  # the REDCap project's (and its mapping's) study


def export(tables, fmt: str, folder: Path, stem: str) -> list[Path]:
    """Simulated tables written as a site would deliver them in `fmt`."""
    if fmt == "redcap":
        return export_redcap(tables, folder, stem=stem)
    if fmt == "dataset-json":
        return export_dataset_json(tables, folder)
    return export_sdtm(tables, folder, fmt=fmt.removeprefix("sdtm-"))


def write_seed_trials(out: Path) -> list[Path]:
    written = []
    for trial_id, design in SEED_TRIALS.items():
        written += export(simulate(design, SEEDS[trial_id]), SEED_FORMATS[trial_id], out / trial_id, trial_id)
    bari = BARICITINIB[0].trial_id
    written += export(simulate_arms(BARICITINIB, SEEDS[bari]), "dataset-json", out / bari, bari)
    return written


def write_trial(design, seed: int, fmt: str, folder: Path, redcap_mapping: Path) -> list[Path]:
    written = export(simulate(design, seed), fmt, folder, design.trial_id)
    if fmt != "redcap":
        return written
    # the pilot's REDCap project with this trial's STUDYID (the only study constant that differs)
    template = redcap_mapping.read_text(encoding="utf-8")
    mapping = folder / "mapping.yaml"
    mapping.write_text(template.replace(f"STUDYID: {RUXOLITINIB_ID}", f"STUDYID: {design.studyid}"), encoding="utf-8")
    return written + [mapping]


def write_trials(out: Path, n_trials: int, n_patients: int, fmt: str, seed: int, drug: str | None = None,
                 visits: int | None = None, first: int = 1,
                 redcap_mapping: Path = Path("resources/trials/NCT01950780/mapping.yaml")) -> Path:
    """Simulate trials first..first+n_trials-1 into out/<trial_id>/ and list them in out/trials.tsv
    (rows already in the sheet are kept, so trials can be added to an existing set)."""
    if fmt not in FORMATS:
        raise SystemExit(f"regrowth-simulate: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    # the REDCap layout is the ruxolitinib pilot's project, so REDCap trials use that design
    drugs = ["ruxolitinib"] if fmt == "redcap" else ([drug] if drug else list(TEMPLATES))
    ids = trial_ids(first + n_trials - 1)[first - 1:]
    trial_seeds = seeds(seed, first + n_trials - 1)[first - 1:]
    sheet = out / "trials.tsv"
    rows = sheet.read_text(encoding="utf-8").splitlines()[1:] if sheet.exists() else []
    out.mkdir(parents=True, exist_ok=True)
    for k, (trial_id, trial_seed) in enumerate(zip(ids, trial_seeds), start=first - 1):
        name = drugs[k % len(drugs)]
        design = scaled_design(TEMPLATES[name], n_patients, trial_id, visits=visits)
        write_trial(design, trial_seed, fmt, out / trial_id, redcap_mapping)
        row = [trial_id, fmt, str(out / trial_id), f"Simulated {name} trial {trial_id}", name,
               str(design.treatment_weeks), data_cut(design)]
        rows = [r for r in rows if not r.startswith(trial_id + "\t")] + ["\t".join(row)]
    sheet.write_text("\n".join(["\t".join(SHEET_COLUMNS)] + sorted(rows)) + "\n", encoding="utf-8")
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="regrowth-simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed-trials", help="write the bundled example trials' exports")
    seed.add_argument("--out", type=Path, default=Path("resources/trials"))
    many = sub.add_parser("trials", help="simulate trials of any size; writes out/trials.tsv too")
    many.add_argument("--trials", type=int, default=1, help="how many trials")
    many.add_argument("--patients", type=int, default=100, help="subjects per trial")
    many.add_argument("--format", choices=FORMATS, default="sdtm-csv")
    many.add_argument("--seed", type=int, default=1)
    many.add_argument("--drug", choices=sorted(TEMPLATES), help="template design (default: cycle)")
    many.add_argument("--visits", type=int, help="scheduled visits per subject (default: template's)")
    many.add_argument("--first", type=int, default=1, help="number of the first trial (to add trials)")
    many.add_argument("--redcap-mapping", type=Path, default=Path("resources/trials/NCT01950780/mapping.yaml"))
    many.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "seed-trials":
        for path in write_seed_trials(args.out):
            print(path)
    else:
        print(write_trials(args.out, args.trials, args.patients, args.format, args.seed, args.drug,
                           args.visits, args.first, args.redcap_mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main())
