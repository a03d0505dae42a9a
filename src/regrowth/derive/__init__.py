"""Derive: ADaM-style analysis tables (ADSL, ADSALT, ADTTE, ADAE), admiral style.

Each derive_var_* adds one variable, derive_vars_* several, derive_param_* adds records;
data frame in, data frame out; required columns checked first; duplicate keys fail loudly.
"""
