"""Comparisons of the drugs across trials: network meta-analysis of randomised trials that share a
comparator (regrowth.compare.nma, on comparisons from regrowth.compare.effects) and
matching-adjusted indirect comparison of a trial's patients with a comparator's published
population (regrowth.compare.maic)."""
