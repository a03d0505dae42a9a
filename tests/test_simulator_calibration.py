"""The bundled trials through the pipeline in process: with the default definitions they give the
published figures (resources/reference/published_results.csv); with other definitions they give
other counts, so a wrong definition cannot pass unnoticed."""

from pathlib import Path

import pandas as pd
import pytest

from regrowth.trial import definitions_with_defaults, run_trial

ROOT = Path(__file__).resolve().parent.parent
RUX, TOFA, BARI = "NCT01950780", "NCT02197455", "NCT03570749"
SHEET = pd.read_csv(ROOT / "config" / "trials.tsv", sep="\t").set_index("trial_id")
DEFAULT_ENDPOINTS = definitions_with_defaults()["endpoints"]  # SALT50/75/90 (PCHG <= -50/-75/-90), SALT <= 20, 10
BRAVE_ARMS = {"Baricitinib 4 mg QD": 281, "Baricitinib 2 mg QD": 184, "Placebo": 189}


def run(trial: str, definitions: dict | None = None):
    row = SHEET.loc[trial]
    return run_trial(ROOT / row["path"], row["format"], definitions=definitions, eot_week=int(row["eot_week"]),
                     data_cut=row["data_cut"])


@pytest.fixture(scope="module")
def default():
    return {trial: run(trial) for trial in (RUX, TOFA, BARI)}


def eot(tables: dict, endpoint: str = "SALT50") -> dict[str, tuple[int, int]]:
    e = tables["efficacy"]
    e = e[(e.subgroup == "Overall") & (e.timepoint == "EOT") & (e.endpoint == endpoint)]
    return {r.arm: (r.n_responders, r.n_subjects) for r in e.itertuples()}


def salt50_at(cut: float) -> dict:
    return {"endpoints": [dict(e, value=cut) if e["name"] == "SALT50" else e for e in DEFAULT_ENDPOINTS]}


# --- the published figures with the default definitions --------------------------------------


def test_ruxolitinib_published_figures(default):
    t = default[RUX].tables
    assert eot(t) == {"Ruxolitinib 20 mg BID": (9, 12)}  # 9/12 SALT50 at week 24
    assert t["regrowth_bands"].set_index("band").loc[">95%", "n"] == 7  # 7 of the 9 regrew > 95 %
    rel = t["relapse"].iloc[0]
    assert (rel.n_at_risk, rel.n_relapsed) == (9, 3)  # a third of the responders lost the regrowth


def test_tofacitinib_published_figures(default):
    t = default[TOFA].tables
    assert eot(t) == {"Tofacitinib 5 mg BID": (21, 66)}  # 21/66 SALT50 at week 12
    row = t["efficacy"].query("subgroup == 'Overall' and timepoint == 'EOT' and endpoint == 'SALT50'").iloc[0]
    assert row.ci_low == pytest.approx(20.89, abs=0.01) and row.ci_high == pytest.approx(44.44, abs=0.01)
    bands = t["regrowth_bands"].set_index("band")["n"]
    assert bands["5-<50%"] == 21 and bands["<5% or not assessed"] == 24  # 32 % some regrowth, 36 % none
    rel = t["relapse"].iloc[0]
    assert rel.n_at_risk == 21 and 7 <= rel.median_weeks <= 10  # relapse about 8.5 weeks off drug


def test_tofacitinib_aa_and_ophiasis_respond_more_than_at_au(default):
    adam = default[TOFA].adam
    adsalt, adsl = adam["adsalt"], adam["adsl"]
    resp = adsalt[(adsalt.PARAMCD == "SALT") & (adsalt.EOTFL == "Y") & (adsalt.CRIT1FL == "Y")]["USUBJID"]
    fas = adsl[adsl.FASFL == "Y"].assign(resp=lambda d: d.USUBJID.isin(resp))
    patchy = fas[fas.AATYPE.isin(["PATCHY AA", "OPHIASIS"])]["resp"].mean()
    total = fas[fas.AATYPE.isin(["ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS"])]["resp"].mean()
    assert patchy > total


def test_brave_aa1_salt_le_20_at_week_36(default):
    # published 38.8 %, 22.8 %, 6.2 % of 281, 184, 189
    assert eot(default[BARI].tables, "SALTLE20") == {"Baricitinib 4 mg QD": (109, 281),
                                                     "Baricitinib 2 mg QD": (42, 184), "Placebo": (12, 189)}


def test_brave_aa1_response_levels_differ_as_biology_implies(default):
    t = default[BARI].tables
    counts = {ep: eot(t, ep) for ep in ("SALT50", "SALT75", "SALT90", "SALTLE20")}
    for arm in BRAVE_ARMS:
        s50, s75, s90, le20 = (counts[ep][arm][0] for ep in ("SALT50", "SALT75", "SALT90", "SALTLE20"))
        assert s50 >= s75 >= s90  # a stricter relative cut never has more responders
        assert s50 > s90  # and the cuts are not all the same subjects
        assert le20 not in (s50, s75, s90)  # the absolute endpoint is another set of subjects
    # dose order: 4 mg > 2 mg > placebo on every endpoint
    for ep, by_arm in counts.items():
        rates = [by_arm[a][0] / by_arm[a][1] for a in BRAVE_ARMS]
        assert rates[0] > rates[1] > rates[2], ep


# --- other definitions give other counts -----------------------------------------------------


@pytest.mark.parametrize("trial", [RUX, TOFA])
@pytest.mark.parametrize("cut", [-40, -60])
def test_another_salt50_cut_gives_another_count(default, trial, cut):
    n_default = sum(n for n, _ in eot(default[trial].tables).values())
    n_cut = sum(n for n, _ in eot(run(trial, salt50_at(cut)).tables).values())
    assert n_cut != n_default
    assert (n_cut > n_default) == (cut > -50)  # a looser cut has more responders, a stricter fewer


def test_another_fraction_lost_gives_another_relapse_count(default):
    moved = []
    for trial in (RUX, TOFA):
        base = default[trial].tables["relapse"].iloc[0]
        for fraction in (0.4, 0.7):
            rel = run(trial, {"relapse": {"fraction_of_regrowth_lost": fraction}}).tables["relapse"].iloc[0]
            assert rel.n_at_risk == base.n_at_risk  # same responders, only the relapse rule changed
            # losing less is reached sooner: never fewer relapses at 0.4, never more at 0.7
            assert (rel.n_relapsed >= base.n_relapsed) if fraction < 0.5 else (rel.n_relapsed <= base.n_relapsed)
            moved.append(rel.n_relapsed != base.n_relapsed)
    assert any(moved)


# --- safety -----------------------------------------------------------------------------------


def test_brave_aa1_serious_aes_and_ae_discontinuations(default):
    r = default[BARI]
    safety = r.tables["safety"]
    serious = safety[safety.soc == "ANY SERIOUS"].set_index("arm")
    disp = r.tables["disposition"]
    stops = disp[disp.reason == "ADVERSE EVENT"].set_index("arm")["n"]
    for arm, n in BRAVE_ARMS.items():
        assert serious.loc[arm, "n_arm"] == n
        assert 0 < serious.loc[arm, "n_subjects"] <= 0.05 * n  # small rates, placebo included
        assert 0 < stops.get(arm, 0) <= 0.05 * n


@pytest.mark.parametrize("trial", [TOFA, BARI])
def test_ae_discontinuation_is_one_withdrawn_ae_ending_the_drug(default, trial):
    tables = default[trial].checked.gated.tables
    ae, ds, ex = tables["ae"], tables["ds"], tables["ex"]
    stopped = set(ds.loc[ds.DSDECOD == "ADVERSE EVENT", "USUBJID"])
    withdrawn = ae[ae.AEACN == "DRUG WITHDRAWN"]
    assert len(stopped) > 0 and set(withdrawn.USUBJID) == stopped and withdrawn.USUBJID.is_unique
    last_dose = ex.groupby("USUBJID")["EXENDTC"].max()
    assert (withdrawn.AESTDTC.to_numpy() == last_dose.reindex(withdrawn.USUBJID).to_numpy()).all()
    assert set(ae.AEACN) <= {"DRUG WITHDRAWN", "DOSE NOT CHANGED", "NOT APPLICABLE"}


def test_seed_trials_with_no_published_serious_aes_have_none(default):
    # the ruxolitinib pilot published no serious AEs; tofacitinib grade I-II infections only
    for trial in (RUX, TOFA):
        safety = default[trial].tables["safety"]
        assert safety.loc[safety.soc == "ANY SERIOUS", "n_subjects"].tolist() == [0]
