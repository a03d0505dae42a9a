"""Derive: ADaM-style analysis tables (ADSL, ADSALT, ADTTE, ADAE), admiral style.

Each derive_var_* adds one variable, derive_vars_* several, derive_param_* adds records;
data frame in, data frame out; required columns checked first; duplicate keys fail loudly.
"""

# The row order of each analysis table (stable sort). All start with USUBJID: a trial processed
# in partitions (blocks of sorted subjects) is combined by concatenating its parts in order.
ORDER = {
    "adsl": ["USUBJID"],
    "adsalt": ["USUBJID", "PARAMCD", "ADT", "VISITNUM"],
    "adtte": ["USUBJID", "PARAMCD"],
    "adae": ["USUBJID", "AESEQ"],
}
