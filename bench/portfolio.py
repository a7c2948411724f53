"""Generate a deterministic portfolio of company profiles (CSV, JSONL or .xlsx) for benchmarks and demos.

    python bench/portfolio.py 10000 -o portfolio.csv [--seed 4]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pnman.knowledge import default  # noqa: E402


def profiles(count: int, seed: int = 4):
    kb = default()
    rng = random.Random(seed)
    bools = [k for k, s in kb.facts.items() if s.type == "bool"]
    goals = sorted(kb.guide.goals)
    codes = kb.facts["recommendations"].choices
    for index in range(count):
        profile = {"name": f"Entreprise {index + 1}", "employees": rng.choice([3, 5, 8, 12, 30, 49, 60, 120, 250, 300])}
        for key in bools:
            roll = rng.random()
            if roll < 0.45:
                profile[key] = True
            elif roll < 0.8:
                profile[key] = False
        profile["pnman_member"] = rng.random() < 0.85
        profile["recommendations"] = sorted(rng.sample(codes, rng.randint(0, len(codes))))
        profile["goals"] = rng.sample(goals, rng.randint(1, 3))
        if rng.random() < 0.5:
            profile["workstations_needed"] = rng.randint(1, 10)
        yield profile


def write_csv(path, rows, *, delimiter: str = ",", bools: tuple[str, str] = ("true", "false"), bom: bool = False) -> None:
    """Rows as a CSV portfolio. `delimiter=";"` is what French Excel writes: a list cell then
    separates its items with "," (in a ","-separated file, with ";")."""
    columns = list(default().facts)
    items = "," if delimiter == ";" else ";"
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        for row in rows:
            cells = []
            for key in columns:
                value = row.get(key)
                if value is None:
                    cells.append("")
                elif isinstance(value, bool):
                    cells.append(bools[0] if value else bools[1])
                elif isinstance(value, list):
                    cells.append(items.join(map(str, value)))
                else:
                    cells.append(str(value))
            writer.writerow(cells)


def write_xlsx(path, rows) -> None:
    """Rows as an Excel workbook (streamed, write-only): booleans and numbers as Excel values,
    lists as « a;b »."""
    from openpyxl import Workbook
    columns = list(default().facts)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Portefeuille")
    sheet.append(columns)
    for row in rows:
        sheet.append([";".join(map(str, v)) if isinstance(v, list) else v for v in (row.get(k) for k in columns)])
    book.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--separator", choices=(",", ";"), default=",",
                        help="CSV column separator (';' as French Excel writes it, lists then separated by ',')")
    args = parser.parse_args()
    rows = profiles(args.count, args.seed)
    if args.output.endswith(".jsonl"):
        with open(args.output, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if args.output.endswith(".xlsx"):
        write_xlsx(args.output, rows)
        return
    write_csv(args.output, rows, delimiter=args.separator)


if __name__ == "__main__":
    main()
