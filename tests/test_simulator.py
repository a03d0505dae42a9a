import hashlib
from pathlib import Path

from regrowth.simulate.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN = {"NCT01950780/mapping.yaml"}  # the REDCap mapping is the trial team's file, not the export


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bundled_exports_regenerate_byte_for_byte(tmp_path):
    assert main(["seed-trials", "--out", str(tmp_path)]) == 0
    committed = {k: v for k, v in digests(ROOT / "resources" / "trials").items() if k not in HAND_WRITTEN}
    assert len(committed) >= 16, "resources/trials is incomplete"
    assert digests(tmp_path) == committed
