"""regrowth: JAK-inhibitor alopecia areata trials from raw exports to a comparison report."""

__version__ = "0.1.0"
