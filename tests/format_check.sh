#!/usr/bin/env bash
# Every C++ source and header is formatted as .clang-format says; names the
# files that are not (fix: clang-format -i FILE) and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || {
  echo "format_check: clang-format is not installed (scripts/setup)" >&2
  exit 2
}
mapfile -t files < <(find src tests fuzz -name '*.cc' -o -name '*.h' | sort)
if ! out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
  echo "not formatted (clang-format -i FILE):"
  grep -o '^[^:]*\.\(cc\|h\):' <<<"$out" | sort -u | tr -d ':' | sed 's/^/  /'
  exit 1
fi
echo "format_check: ${#files[@]} files formatted as .clang-format says"
