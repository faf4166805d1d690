"""Run one bench script on two revisions of the code in the same run, alternating, so that both
see the same load of this shared machine.

    .venv/bin/python bench/before_after.py --base ce1fc70 --runs 2 ingest_throughput.py -- --batches 20

Checks the base revision out into a temporary git worktree (the virtualenv is shared), copies this
checkout's ``bench/`` scripts over the base's so that both revisions are measured by the same
method (``--base-scripts`` keeps the base's own scripts, for a bench that starts the app through
wiring the base does not have), then runs ``bench/<script>`` in the base tree and in this tree, ``--runs`` times each,
base first. Prints each run's output under a header naming the tree and run; the figures are the
bench script's own lines.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def checkout(base: str, into: Path, copy_scripts: bool = True) -> Path:
    """Return the path of a detached worktree of ``base`` made under ``into`` with .venv (and this bench/)."""
    tree = into / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), base], check=True)
    venv = ROOT / ".venv"
    if venv.exists():
        (tree / ".venv").symlink_to(venv.resolve())
    for script in (ROOT / "bench").glob("*.py") if copy_scripts else ():
        shutil.copy2(script, tree / "bench" / script.name)
    return tree


def run(tree: Path, script: str, args: list[str]) -> str:
    """Return the combined output of ``bench/<script>`` run in ``tree`` (raises when it fails)."""
    proc = subprocess.run([sys.executable, str(tree / "bench" / script), *args], cwd=tree,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} in {tree} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision measured as 'before'")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--base-scripts", action="store_true", help="run the base's own bench scripts in the base")
    parser.add_argument("script", help="a script in bench/, e.g. ingest_throughput.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script (after --)")
    ns = parser.parse_args()
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="fl-before-after-") as tmp:
        tree = checkout(ns.base, Path(tmp), copy_scripts=not ns.base_scripts)
        try:
            for i in range(1, ns.runs + 1):
                for label, where in ((f"before ({ns.base})", tree), (f"after ({head}, this checkout)", ROOT)):
                    print(f"=== {ns.script} {' '.join(args)} | {label} | run {i} of {ns.runs}", flush=True)
                    print(run(where, ns.script, args), flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
