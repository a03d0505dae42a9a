"""Command line: regenerate the bundled example exports byte for byte.

    regrowth-simulate seed-trials --out resources/trials
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regrowth.simulate.engine import simulate, simulate_arms
from regrowth.simulate.export_dataset_json import export_dataset_json
from regrowth.simulate.export_redcap import export_redcap
from regrowth.simulate.export_sdtm import export_sdtm
from regrowth.simulate.seed_trials import BARICITINIB, SEED_TRIALS, SEEDS

SEED_FORMATS = {"NCT01950780": "redcap", "NCT02197455": "sdtm-xpt"}


def write_seed_trials(out: Path) -> list[Path]:
    written = []
    for trial_id, design in SEED_TRIALS.items():
        tables = simulate(design, SEEDS[trial_id])
        folder = out / trial_id
        if SEED_FORMATS[trial_id] == "redcap":
            written += export_redcap(tables, folder, stem=trial_id)
        else:
            written += export_sdtm(tables, folder, fmt="xpt")
    bari = BARICITINIB[0].trial_id
    written += export_dataset_json(simulate_arms(BARICITINIB, SEEDS[bari]), out / bari)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="regrowth-simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed-trials", help="write the bundled example trials' exports")
    seed.add_argument("--out", type=Path, default=Path("resources/trials"))
    args = parser.parse_args(argv)
    if args.command == "seed-trials":
        for path in write_seed_trials(args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
