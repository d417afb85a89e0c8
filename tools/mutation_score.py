"""Mutation score of the science cores: run mutmut on them and print killed / survived / timeout per module.

``python tools/mutation_score.py`` mutates every module of ``[tool.mutmut] only_mutate`` in pyproject.toml;
``python tools/mutation_score.py ndg/edges.py ndg/counting.py`` only those; ``--survivors`` re-tests only the
last run's survivors (after tests were added). Each mutant runs the fast unit tests
that call the mutated function (mutmut finds them in one traced run of ``pytest_add_cli_args_test_selection``).
Survivors listed as equivalent in docs/testing.md (a table row starting with the mutant's name in backquotes) are
counted apart and left out of the score: score = (killed + timeout) / (mutants − equivalent − not checked).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = str(Path(sys.executable).with_name("mutmut"))
EQUIVALENTS = ROOT / "docs" / "testing.md"
CAUGHT = ("killed", "timeout", "segfault")  # the tests (or the CPU limit) stopped the mutant
UNCHECKED = ("not checked", "skipped")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}  # mutmut runs 2 in parallel


def configured_modules() -> list[str]:
    """The files mutmut mutates, from pyproject.toml (paths relative to the repository root)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def module_name(path: str) -> str:
    """src/ndg_pipeline/ndg/edges.py → ndg_pipeline.ndg.edges (the prefix of its mutants' names)."""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def select(modules: list[str], wanted: list[str]) -> list[str]:
    """The configured modules whose path ends with one of ``wanted`` (all of them when none is given)."""
    if not wanted:
        return modules
    chosen = [m for m in modules if any(m.endswith(w if w.endswith(".py") else f"{w}.py") for w in wanted)]
    unknown = [w for w in wanted if not any(m.endswith(w if w.endswith(".py") else f"{w}.py") for m in modules)]
    if unknown:
        raise SystemExit(f"not among [tool.mutmut] only_mutate: {unknown}; choose from {modules}")
    return chosen


def equivalent_mutants() -> set[str]:
    """Mutant names listed in docs/testing.md's table of equivalent survivors."""
    if not EQUIVALENTS.exists():
        return set()
    return set(re.findall(r"^\|\s*`([\w.ǁ]+__mutmut_\d+)`", EQUIVALENTS.read_text(), flags=re.MULTILINE))


def results() -> dict[str, str]:
    """Mutant name → status of every mutant mutmut knows (``mutmut results --all true``)."""
    listing = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True)
    pairs = (line.strip().rsplit(": ", 1) for line in listing.stdout.splitlines() if "__mutmut_" in line)
    return {name: status for name, status in pairs}


def table(statuses: dict[str, str], modules: list[str], equivalent: set[str]) -> list[dict[str, object]]:
    """One row per module: counts per status and the score."""
    rows = []
    for path in modules:
        prefix = module_name(path) + "."
        mine = {name: status for name, status in statuses.items() if name.startswith(prefix)}
        counts = Counter(mine.values())
        equal = sum(1 for name, status in mine.items() if name in equivalent and status not in CAUGHT)
        caught = sum(counts[s] for s in CAUGHT)
        scored = len(mine) - equal - sum(counts[s] for s in UNCHECKED)
        rows.append(
            {
                "module": path.removeprefix("src/ndg_pipeline/"),
                "mutants": len(mine),
                "killed": counts["killed"],
                "survived": counts["survived"] + counts["suspicious"] - equal,
                "no tests": counts["no tests"],
                "timeout": counts["timeout"] + counts["segfault"],
                "equivalent": equal,
                "not checked": sum(counts[s] for s in UNCHECKED),
                "score": f"{100 * caught / scored:.1f} %" if scored else "n/a",
            }
        )
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    """The rows as a Markdown table (pasted into docs/testing.md)."""
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="module paths under src/ndg_pipeline (default: all configured)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel (default 2)")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run, run nothing")
    parser.add_argument(
        "--survivors", action="store_true", help="re-test only the last run's survivors (after adding tests)"
    )
    args = parser.parse_args()
    modules = select(configured_modules(), args.modules)
    if not args.report_only:
        prefixes = tuple(module_name(path) + "." for path in modules)
        if args.survivors:  # tests were only added: what the last run killed stays killed
            last = results()
            patterns = [n for n, s in last.items() if n.startswith(prefixes) and s not in (*CAUGHT, *UNCHECKED)]
            if not patterns:
                raise SystemExit("no survivors of a previous run to re-test; run without --survivors first.")
        else:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # fresh: results never outlive their tests
            patterns = [prefix + "*" for prefix in prefixes]
        start = time.perf_counter()
        subprocess.run(
            [MUTMUT, "run", "--max-children", str(args.max_children), *patterns],
            cwd=ROOT,
            env={**os.environ, **ONE_THREAD},
            check=True,
        )
        seconds = time.perf_counter() - start
    rows = table(results(), modules, equivalent_mutants())
    if not args.report_only:
        tested = len(patterns) if args.survivors else sum(int(row["mutants"]) - int(row["no tests"]) for row in rows)
        print(
            f"\nmutmut tested {tested} mutants of {len(modules)} module(s) in {seconds / 60:.1f} min "
            f"({tested / seconds:.2f} mutants/s, generation and the traced test run included)"
        )
    print_table(rows)


if __name__ == "__main__":
    main()
