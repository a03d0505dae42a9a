"""Partitioned processing: a large export split by subject, processed part by part, recombined."""
