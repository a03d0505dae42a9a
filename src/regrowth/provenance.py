"""Provenance: what code, inputs and settings produced each output, and whether anything changed.

- code_version(script): a hash of a workflow script and of every regrowth module it imports,
  directly or not (found statically), with their package data. Snakemake does not track modules
  imported by scripts; rules pass this hash as a param, so a change to the code a rule runs
  reruns that rule and nothing else.
- job_metadata(snakemake): the key-value metadata each Parquet output carries.
- build_manifest / verify_manifest: sha256 of every input and output, and a check against disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import regrowth
from regrowth.hashing import sha256_file

PACKAGE_ROOT = Path(regrowth.__file__).resolve().parent
DATA_SUFFIXES = {".j2", ".yaml", ".json", ".css", ".js"}


@cache
def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    base = PACKAGE_ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


# `import regrowth.x` and `from regrowth.x import a, b` (names in parentheses may span lines),
# anywhere in a file: imports inside functions count. Read as text, not parsed: parsing every
# module cost about a second at every Snakemake start. A match inside a string only adds a file.
IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:import[ \t]+(regrowth(?:\.\w+)*)|from[ \t]+(regrowth(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*))",
    re.MULTILINE)


@cache
def _imports(path: Path) -> frozenset[str]:
    """regrowth modules a file imports (including parent packages, which Python executes too)."""
    found: set[str] = set()
    for imported, module, names in IMPORT_STATEMENT.findall(path.read_text(encoding="utf-8")):
        candidates = [imported] if imported else [module] + [
            f"{module}.{n.split()[0]}" for n in re.sub(r"#.*", "", names).strip("()").replace("\\\n", " ").split(",")
            if n.split()]
        for name in candidates:
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(n for n in found if _module_file(n) is not None)  # cached: modules are shared


@cache
def _closure(start: tuple[str, ...]) -> tuple[Path, ...]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_imports(_module_file(name)) - seen)
    files = {_module_file(n) for n in seen}
    for f in list(files):  # a module's package data (templates, schemas) travels with it
        files.update(p for p in f.parent.iterdir() if p.suffix in DATA_SUFFIXES)
    return tuple(sorted(files))


def code_version(script: str | os.PathLike) -> str:
    """Hash of a workflow script and all regrowth code and package data it can reach."""
    script = Path(script)
    files = [script, *_closure(tuple(sorted(_imports(script))))]
    h = hashlib.sha256()
    h.update(script.name.encode() + b"\0" + script.read_bytes() + b"\0")
    for f in files[1:]:
        h.update(_package_file_record(f))
    return h.hexdigest()[:16]


@cache
def _package_file_record(path: Path) -> bytes:
    """A package file as code_version hashes it (read once per process: every rule's hash shares them)."""
    return str(path.relative_to(PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0"


@cache
def git_version(where: str) -> dict:
    """Commit of the workflow's repository and whether its tree differs from it."""
    def git(*args):
        return subprocess.run(["git", "-C", where, *args], capture_output=True, text=True, timeout=30)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"git_commit": "unknown", "git_dirty": None}
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"git_commit": head.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "git_dirty": None}


def config_hash(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def job_metadata(snakemake, versions: dict) -> dict:
    """Key-value metadata for every Parquet output of a job. Holds no times, so reruns from the
    same inputs, code and settings write the same bytes."""
    params = {k: v for k, v in snakemake.params.items()}
    inputs = sorted({str(p) for p in snakemake.input})
    return {
        "rule": snakemake.rule,
        "wildcards": dict(snakemake.wildcards.items()),
        "inputs": {p: sha256_file(Path(p)) for p in inputs if Path(p).is_file()},
        "code": {**git_version(str(Path(snakemake.scriptdir).resolve())), "package_version": versions["regrowth"],
                 "code_hash": params.get("code")},
        "config_hash": config_hash({k: v for k, v in params.items() if k != "code"}),
        "versions": versions,
    }


# --- manifest -------------------------------------------------------------------------------


def file_entry(path: str, rule: str | None, sha256: str) -> dict:
    return {"path": path, "sha256": sha256, "bytes": Path(path).stat().st_size, "rule": rule}


def build_manifest(outputs: dict[str, str], inputs: list[str], trials: list[dict], config: dict,
                   workers: int = 1, results_dir: str = "results") -> dict:
    """workers: threads hashing the files (hashlib releases the GIL; a large trial's exports and
    outputs are gigabytes); results_dir: the run's results folder, which verify scans."""
    from concurrent.futures import ThreadPoolExecutor

    paths = sorted(set(inputs) | set(outputs))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        sha = dict(zip(paths, pool.map(sha256_file, map(Path, paths))))
    return {
        "manifest_version": 1,
        "results": results_dir,
        "trials": trials,
        "config": config,
        "inputs": [file_entry(p, None, sha[p]) for p in sorted(set(inputs))],
        "outputs": [file_entry(p, r, sha[p]) for p, r in sorted(outputs.items())],
    }


SNAKEMAKE_MARKER = ".snakemake_timestamp"  # Snakemake's stamp in a directory output (results/T/split/parts)


def verify_manifest(manifest_path: str | os.PathLike, root: str | os.PathLike = ".") -> list[dict]:
    """Differences between the manifest and the files on disk: changed, missing, added.

    'added' covers files in the manifest's results folder (the folder holding provenance/, but
    not provenance/ and logs/ in it) and in each trial's export folder that the manifest does
    not list. Another sheet's results folder is another run's: not scanned.
    """
    root = Path(root)
    manifest_path = Path(manifest_path)
    manifest = json.loads(manifest_path.read_text())
    listed = {e["path"]: e for e in manifest["inputs"] + manifest["outputs"]}
    out = []
    for path, entry in sorted(listed.items()):
        p = root / path
        if not p.is_file():
            out.append({"status": "missing", "path": path, "rule": entry["rule"]})
        elif p.stat().st_size != entry["bytes"] or sha256_file(p) != entry["sha256"]:
            out.append({"status": "changed", "path": path, "rule": entry["rule"]})
    results = root / manifest["results"] if "results" in manifest else manifest_path.parent.parent
    not_outputs = {results / "provenance", results / "logs"}
    folders = {str(Path(e["path"]).parent) for e in manifest["inputs"]}
    scanned = [results] + [root / f for f in folders]  # an absolute folder stays absolute
    for folder in scanned:
        if not folder.is_dir():
            continue
        for p in sorted(folder.rglob("*")):
            if p.name == SNAKEMAKE_MARKER or not p.is_file() or not_outputs.intersection(p.parents):
                continue
            if folder != results and p.parent != folder:
                continue  # trial folders: only their own files, not subfolders
            # listed as the sheet gave it: relative to the root, or absolute
            rel = str(p) if str(p) in listed else os.path.relpath(p, root)
            if rel not in listed:
                out.append({"status": "added", "path": rel, "rule": None})
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="regrowth-verify",
                                     description="Check results and inputs against the provenance manifest.")
    parser.add_argument("--manifest", default="results/provenance/manifest.json",
                        help="the run's manifest: <results folder>/provenance/manifest.json")
    parser.add_argument("--root", default=".", help="folder the manifest's paths are relative to")
    args = parser.parse_args(argv)
    if not Path(args.manifest).is_file():
        print(f"regrowth-verify: {args.manifest} not found (run the workflow first)")
        return 2
    diffs = verify_manifest(args.manifest, args.root)
    for d in diffs:
        print(f"{d['status']:8} {d['path']}" + (f"  (rule {d['rule']})" if d["rule"] else ""))
    n = len(json.loads(Path(args.manifest).read_text())["outputs"])
    print(f"{'OK' if not diffs else 'DIFFERENT'}: {len(diffs)} difference(s); {n} outputs listed")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
