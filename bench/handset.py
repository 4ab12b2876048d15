"""What the hand-written sets (``requests_set.py``, ``edits_set.py``) share: reading their source files of entries,
checking each entry's shape, and writing the ``dev``/``check`` task files. A bad entry is a SystemExit naming its
file and entry, so a person fixing a set is pointed at the line to fix."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml


def load_entries(paths: Iterable[Path], fields: tuple[str, ...], choices: dict[str, tuple[str, ...]],
                 split: Callable[[Path, dict], str]) -> list[dict]:
    """Every entry of ``paths`` with its file and split; each must hold ``fields``, values among ``choices``,
    and an id no other entry has."""
    rows: list[dict] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            sys.exit(f"{path}: not YAML: {exc}")
        if not isinstance(entries, list):
            sys.exit(f"{path}: expected a list of entries")
        for number, entry in enumerate(entries, start=1):
            where = f"{path.name} entry {number}"
            if not isinstance(entry, dict) or (missing := [f for f in fields if not entry.get(f)]):
                sys.exit(f"{where}: missing field(s) {', '.join(missing) if isinstance(entry, dict) else fields}")
            if unknown := sorted(set(entry) - set(fields) - {"notes"}):
                sys.exit(f"{where} ({entry['id']}): unknown field(s) {', '.join(unknown)}")
            for key, allowed in choices.items():
                if entry[key] not in allowed:
                    sys.exit(f"{where} ({entry['id']}): {key} {entry[key]!r} is not one of {', '.join(allowed)}")
            if entry["id"] in seen:
                sys.exit(f"{where}: id {entry['id']!r} is used in {seen[entry['id']]} too")
            seen[entry["id"]] = where
            rows.append(entry | {"file": path.name, "split": split(path, entry)})
    return rows


def report(rows: list[dict], problems: Callable[[dict], list[str]], counted: tuple[str, ...]) -> int:
    """Print every problem of every entry and a line of counts; 1 when any entry has a problem."""
    bad = 0
    for entry in rows:
        for problem in problems(entry):
            bad += 1
            print(f"{entry['file']} {entry['id']}: {problem}")
    counts = "; ".join(f"{key[:-1] + 'ies' if key.endswith('y') else key + 's'}: "
                       f"{dict(sorted(Counter(e[key] for e in rows).items()))}" for key in counted)
    print(f"{len(rows)} entries, {bad} problems; {counts}; splits: {dict(Counter(e['split'] for e in rows))}")
    return 1 if bad else 0


def main(description: str, verify: Callable[[list[Path] | None], int], build: Callable[[], int],
         verify_help: str) -> int:
    """The command line both set scripts take: ``verify [FILE...]`` and ``build``."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    sub = parser.add_subparsers(dest="verb", required=True)
    check = sub.add_parser("verify", help=verify_help)
    check.add_argument("files", nargs="*", type=Path)
    sub.add_parser("build", help="write dev.jsonl and check.jsonl from the sources")
    args = parser.parse_args()
    return verify(args.files or None) if args.verb == "verify" else build()


def write_splits(rows: list[dict], task_row: Callable[[dict], dict], folder: Path) -> int:
    """``dev.jsonl`` and ``check.jsonl`` in ``folder``: one evaluation task a line."""
    for split in ("dev", "check"):
        lines = [json.dumps(task_row(e), ensure_ascii=False) for e in rows if e["split"] == split]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{folder / f'{split}.jsonl'}: {len(lines)} tasks")
    return 0
