"""The workflow's rule graph for the report's provenance appendix, from Snakemake itself."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from regrowth.errors import RegrowthError


def canonical_dot(dot: str) -> str:
    """The DOT text with its edges in one order (Snakemake lists them in an order that changes
    from run to run), so the same workflow gives the same bytes."""
    lines = [ln.rstrip() for ln in dot.splitlines()]
    edges = sorted((ln for ln in lines if re.match(r"^\s*\d+ -> \d+\s*$", ln)),
                   key=lambda ln: tuple(int(n) for n in re.findall(r"\d+", ln)))
    others = [ln for ln in lines if not re.match(r"^\s*\d+ -> \d+\s*$", ln)]
    closing = max(i for i, ln in enumerate(others) if ln.strip() == "}")
    return "\n".join(others[:closing] + edges + others[closing:]) + "\n"


class RuleGraph:
    """`snakemake --rulegraph` of the workflow in the working directory, drawn in a subprocess
    (a second Snakemake start, ~2-3 s) while the caller goes on; dot() waits for it. It does not
    depend on analysis definitions, so the config is handed over in a file, not as a param.
    Used as a context manager: a drawing still running when the block is left is stopped."""

    def __init__(self, config: dict):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            yaml.safe_dump(config, fh)
        self._config = Path(fh.name)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--rulegraph", "--nolock", "--quiet", "all",
             "--configfile", fh.name, "--workflow-profile", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def dot(self, timeout: float = 600) -> str:
        try:
            out, err = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RegrowthError(f"snakemake --rulegraph did not finish in {timeout:g} s") from None
        if self._proc.returncode != 0 or "digraph" not in out:
            raise RegrowthError(f"snakemake --rulegraph failed:\n{err[-2000:]}")
        return out[out.index("digraph"):]

    def __enter__(self) -> RuleGraph:
        return self

    def __exit__(self, *exc) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.communicate()
        self._config.unlink(missing_ok=True)
