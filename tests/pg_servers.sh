#!/usr/bin/env bash
# pg_servers.sh start|stop DIR — the two throwaway PostgreSQL servers the
# database tests share during one ctest run (CTest fixture "pg": the tests
# pg_start and pg_stop run this).
#
# start: stops what an earlier, aborted run left in DIR/source and DIR/target,
# starts both servers (scripts/pg-throwaway; their URIs land in DIR/*/uri) and
# loads tests/data/clone_fixture.sql once into the source database
# `ferry_fixture`, which tests copy with CREATE DATABASE ... TEMPLATE instead of
# loading it again (a second, not 2.5 s). stop: stops both and removes them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
throwaway=$here/../scripts/pg-throwaway
fixture=$here/data/clone_fixture.sql

[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
dir=$2

"$throwaway" stop "$dir/source"
"$throwaway" stop "$dir/target"
[[ $1 == stop ]] && exit 0

mkdir -p "$dir"
"$throwaway" start "$dir/source" >/dev/null &
source_pid=$!
"$throwaway" start "$dir/target" >/dev/null
wait "$source_pid"

uri=$(cat "$dir/source/uri")
psql -X -q -v ON_ERROR_STOP=1 -d "$uri" -c "CREATE DATABASE ferry_fixture"
psql -X -q -v ON_ERROR_STOP=1 -d "${uri%/postgres}/ferry_fixture" -f "$fixture" >/dev/null
echo "pg_servers: source $uri (fixture in ferry_fixture), target $(cat "$dir/target/uri")"
