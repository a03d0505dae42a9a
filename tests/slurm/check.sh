#!/usr/bin/env bash
# Bring up a single-node SLURM here, run the workflow through the slurm executor and check it
# against a local run (tests/test_slurm.py), then shut the daemons down. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/slurm/cluster.sh start
trap 'tests/slurm/cluster.sh stop' EXIT
./setup.sh
.venv/bin/python -m pytest -q tests/test_slurm.py
