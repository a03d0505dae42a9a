"""Derive: ADaM-style analysis tables (ADSL, ADSALT, ADTTE, ADAE), admiral style, on polars.

Each derive_var_* adds one variable, derive_vars_* several, derive_param_* adds records;
data frame in, data frame out; required columns checked first; duplicate keys fail loudly.
The verbs (derive.verbs) are admiral's: derive_var_extreme_flag, derive_vars_merged.
"""

# Only what every derivation shares: a job's code hash covers every module its script can reach
# (regrowth.provenance.code_version), so the ADAE job must not reach ADSALT's code through here.

# The row order of each analysis table (stable sort). All start with USUBJID: parts (blocks of
# sorted subjects) read one after the other give the table in this order.
ORDER = {
    "adsl": ["USUBJID"],
    "adsalt": ["USUBJID", "PARAMCD", "ADT", "VISITNUM"],
    "adtte": ["USUBJID", "PARAMCD"],
    "adae": ["USUBJID", "AESEQ"],
}


