import hashlib
from pathlib import Path

from regrowth.simulate.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bundled_exports_regenerate_byte_for_byte(tmp_path):
    assert main(["seed-trials", "--out", str(tmp_path)]) == 0
    committed = digests(ROOT / "resources" / "trials")
    assert committed, "resources/trials is empty"
    assert digests(tmp_path) == committed
