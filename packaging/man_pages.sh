#!/usr/bin/env bash
# Writes one gzipped man page per ferry command (ferry.1, ferry-db-clone.1.gz,
# ...) from the command's own --help, with help2man, so the pages can never say
# something the binary does not do.
# Usage: man_pages.sh FERRY_BINARY VERSION OUT_DIR
set -euo pipefail
ferry=$(realpath "$1")
version=$2
out=$3
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# help2man runs PROGRAM --help, and names the page after PROGRAM: a small
# wrapper per command gives it "ferry-db-clone" that runs "ferry db clone".
commands=("" assess db "db check" "db clone" "db follow" "db status" "db verify"
          "db cutover" "db rollback" proxy "proxy rollout" "proxy rollout status"
          "proxy rollout start" "proxy rollout pause" "proxy rollout resume"
          "proxy rollout promote" "proxy rollout abort")
for command in "${commands[@]}"; do
  name=ferry${command:+-${command// /-}}
  # shellcheck disable=SC2086 # the words of the command are meant to split
  printf '#!/bin/sh\nexec %q %s "$@"\n' "$ferry" "$command" >"$work/$name"
  chmod +x "$work/$name"
  help=$("$work/$name" --help)
  summary=${help%%$'\n'*}
  help2man --no-info --no-discard-stderr --version-string="$version" \
    --name="$summary" --section=1 --source="ferry $version" \
    --output="$work/$name.1" "$work/$name"
  # The wrapper's temporary path must not leak into the page.
  sed -i "s#$work/##g" "$work/$name.1"
  gzip -9n -c "$work/$name.1" >"$out/$name.1.gz"
done
