"""Summarize: cross-trial tables (efficacy, relapse, safety, demographics) from ADaM data."""
