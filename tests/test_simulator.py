import pytest
import hashlib
from pathlib import Path

from regrowth.simulate.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN = {"NCT01950780/mapping.yaml"}  # the REDCap mapping is the trial team's file, not the export


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bundled_exports_regenerate_byte_for_byte(tmp_path):
    assert main(["seed-trials", "--out", str(tmp_path)]) == 0
    committed = {k: v for k, v in digests(ROOT / "resources" / "trials").items() if k not in HAND_WRITTEN}
    assert len(committed) >= 16, "resources/trials is incomplete"
    assert digests(tmp_path) == committed


def test_regrowth_follows_the_emax_curve_on_drug_and_halves_off_drug():
    import pandas as pd
    from dataclasses import replace

    from regrowth.simulate.engine import _regrowth_fraction
    from regrowth.simulate.seed_trials import RUXOLITINIB

    design = replace(RUXOLITINIB, treatment_weeks=24)  # hill 2
    subjects = pd.DataFrame({"max_regrowth": [0.8, 2.0, -0.1], "onset_weeks": [8.0, 8.0, 8.0],
                             "loss_half_weeks": [7.0, 7.0, 7.0]})
    visits = pd.DataFrame({"subject": [0, 0, 0, 0, 1, 1, 2], "week": [0, 8, 24, 38, 24, 31, 24]})
    got = _regrowth_fraction(design, subjects, visits)
    # by hand: 0.8 * 8^2 / (8^2 + 8^2) = 0.4; at 24: 0.8 * 576 / 640 = 0.72; 14 weeks off: 0.72 / 4
    # subject 1: 2 * 0.9 = 1.8, capped at complete regrowth 1, then 1 / 2 after 7 weeks off;
    # subject 2 worsens: -0.1 * 0.9
    assert got.tolist() == pytest.approx([0.0, 0.4, 0.72, 0.18, 1.0, 0.5, -0.09])


def test_scaled_trial_keeps_the_template_rates_in_expectation():
    from regrowth.simulate.calibrate import summary
    from regrowth.simulate.engine import simulate
    from regrowth.simulate.scale import scaled_design
    from regrowth.simulate.seed_trials import TOFACITINIB

    design = scaled_design(TOFACITINIB, 6600, "BIG1")
    assert design.n_subjects == 6600 and len(design.dropouts) == 500  # 5 of 66, in proportion
    s = summary(design, simulate(design, 1))
    assert abs(s["SALT50"] / 6600 - 21 / 66) < 0.03  # 3 points: about 5 binomial SEs at this size
    assert s["patchy_rate"] > s["total_rate"]
