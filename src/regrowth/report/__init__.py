"""Report: one self-contained HTML file comparing the drugs."""
