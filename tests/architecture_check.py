#!/usr/bin/env python3
"""Keeps docs/architecture.md true, and the folders' dependencies one-way.

Checks, from the repository root:
  1. every header in src/, every test source in tests/ and every fuzz target
     in fuzz/ is named in docs/architecture.md (a newcomer finds it there);
  2. every `#include "folder/..."` in src/ goes down the one direction the
     design allows: cli -> {assess, db, proxy} -> pg -> core (assess and
     proxy use core only).
Prints one line per problem and exits 1 if there is any.
"""
import pathlib
import re
import sys

ALLOWED = {
    "core": {"core"},
    "pg": {"pg", "core"},
    "assess": {"assess", "core"},
    "db": {"db", "pg", "core"},
    "proxy": {"proxy", "core"},
    # run talks to a running proxy through its admin client, not its internals.
    "run": {"run", "assess", "db", "proxy", "pg", "core"},
    "cli": {"cli", "run", "assess", "db", "proxy", "pg", "core"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    doc = (root / "docs" / "architecture.md").read_text()
    problems = []
    listed = sorted(root.glob("src/*/**/*.h")) + sorted(root.glob("tests/*.cc")) + sorted(
        root.glob("fuzz/*_fuzz.cc"))
    for path in listed:
        # The whole name: log.h is not named by catalog.h.
        if not re.search(r"(?<![\w.])" + re.escape(path.name) + r"(?![\w])", doc):
            problems.append(f"docs/architecture.md does not name {path.relative_to(root)}")
    for path in sorted(root.glob("src/*/**/*")):
        if path.suffix not in (".h", ".cc"):
            continue
        # A subfolder (src/db/clone/) belongs to its top folder's library.
        folder = path.relative_to(root / "src").parts[0]
        allowed = ALLOWED.get(folder)
        if allowed is None:
            problems.append(f"{path.relative_to(root)}: folder src/{folder} has no place in the "
                            "dependency order (tests/architecture_check.py)")
            continue
        text = path.read_text()
        for match in INCLUDE.finditer(text):
            if match.group(1) in ALLOWED and match.group(1) not in allowed:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(root)}:{line}: includes {match.group(1)}/, "
                                f"but src/{folder} may use only {', '.join(sorted(allowed))}")
    for p in problems:
        print(p)
    if problems:
        print(f"architecture_check: {len(problems)} problem(s)")
        return 1
    print(f"architecture_check: {len(listed)} files named, includes one-way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
