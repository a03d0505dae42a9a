"""The canonical model's variable contracts: every variable a derivation needs, absent from a
dataset that is there, stops the trial with a message naming the file and the column; the README
lists the variables as the model has them."""

from pathlib import Path

import pytest

from regrowth.errors import ValidationFailed
from regrowth.ingest import ingest_trial
from regrowth.ingest.contract import look_alikes, one_edit_apart
from regrowth.model import DOMAINS, variables_markdown
from regrowth.trial import check_trial
from tests.corpus.cases import BASE, Case, drop_column

ROOT = Path(__file__).resolve().parent.parent

# every variable the derivations need, that the corpus base carries (RS's VISITNUM included)
NEEDED = [(d, v.name) for d, spec in DOMAINS.items() for v in spec.variables
          if (v.needed_by or v.nonnull) and d in BASE and v.name in BASE[d].columns]


def test_the_base_carries_most_needed_variables():
    assert len(NEEDED) >= 25, NEEDED


@pytest.mark.parametrize("domain,variable", NEEDED, ids=lambda x: str(x))
def test_an_absent_needed_variable_is_an_error_naming_file_and_column(tmp_path, domain, variable):
    folder = Case(f"drop-{variable}", "sdtm-csv", ("rule", ""), drop_column(domain, variable)).write(tmp_path / "t")
    issues = ingest_trial(folder, "sdtm-csv").as_pandas().issues
    found = issues[(issues["column"] == variable) & (issues["severity"] == "error")]
    assert set(found["rule_id"]) <= {"RG0001", "RG0008"} and len(found) == 1, issues
    assert found["file"].iloc[0] == f"{domain}.csv" and f"{variable} (" in found["message"].iloc[0]


def test_an_absent_needed_variable_stops_even_under_quarantine(tmp_path):
    folder = Case("drop", "sdtm-csv", ("rule", ""), drop_column("rs", "RSDTC")).write(tmp_path / "t")
    with pytest.raises(ValidationFailed) as exc:
        check_trial(folder, "sdtm-csv", policy="quarantine")  # no row carries it: nothing to set aside
    assert "rs.csv" in str(exc.value) and "RSDTC" in str(exc.value) and "missing from" in str(exc.value)


def test_one_edit_is_an_insertion_deletion_substitution_or_swap():
    assert one_edit_apart("RSSTRESN", "RSSTERSN")  # neighbours swapped
    assert one_edit_apart("ARM", "AMR") and one_edit_apart("AESTDTC", "AESTDC") and one_edit_apart("AGE", "AGEE")
    assert one_edit_apart("AESEV", "AESEX")
    assert not one_edit_apart("AESTDTC", "AESTDTC") and not one_edit_apart("ARM", "ARMCDX")
    assert not one_edit_apart("RSSTRESN", "RSSTRSNE")  # two swaps away


def test_look_alikes_are_non_canonical_columns_only():
    # ACTARM is one edit from ARM but a variable of its own: never offered as "did you mean ARM"
    assert look_alikes("dm", "ARM", ["ACTARM", "AMR", "ARMS"]) == ["AMR", "ARMS"]
    assert look_alikes("ae", "AESTDTC", ["AESTDAT"]) == ["AESTDAT"]  # CDASH name


def test_readme_lists_the_variables_as_the_model_has_them():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- variables:start -->\n", 1)[1].split("\n<!-- variables:end -->", 1)[0]
    assert block == variables_markdown(), "run: python -m regrowth.model README.md"
