#!/usr/bin/env bash
# What `ferry db clone --replica-identity-full` costs the source: the WAL an
# UPDATE and a DELETE write on a table without a key, with REPLICA IDENTITY
# DEFAULT (nothing of the old row is logged; ferry then carries only the
# table's inserts) against FULL (the whole old row is logged, so every change
# can be carried). No ferry involved: PostgreSQL's own WAL positions.
#
# On one throwaway server (wal_level logical, as a source must be), for a
# narrow table (three columns, a 32-character text) and a wide one (a
# 256-character text), ROWS rows each: every row updated once, then a tenth
# deleted, under each identity. full_page_writes is off for the measurement
# so the records themselves are compared; with it on (the default), the
# page images written after each checkpoint dilute the difference.
#
# usage: bench/replica_identity_wal.sh [ROWS=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
work=$(mktemp -d /tmp/ferry-replica-identity-wal.XXXXXX)
chmod 755 "$work"  # the server runs as user postgres when we are root
trap 'scripts/pg-throwaway stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
uri=$(scripts/pg-throwaway start "$work/pg")
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$uri" "$@"; }
q -c "ALTER SYSTEM SET full_page_writes = off" -c "SELECT pg_reload_conf()" >/dev/null

# KiB of WAL the statement $2 writes on table $1 with replica identity $3.
wal_kib() {
  local table=$1 sql=$2 identity=$3 start
  q -c "ALTER TABLE $table REPLICA IDENTITY $identity"
  start=$(q -c "SELECT pg_current_wal_insert_lsn()")
  q -c "$sql"
  q -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$start')::bigint / 1024"
}

printf '%-7s %9s %-8s %14s %14s %7s\n' table "row bytes" change "DEFAULT KiB" "FULL KiB" ratio
for spec in "narrow 1" "wide 8"; do
  read -r table repeat <<<"$spec"
  for identity in default full; do
    q -c "CREATE TABLE ${table}_$identity (a integer, b integer, note text)" \
      -c "INSERT INTO ${table}_$identity SELECT i, i, repeat(md5(i::text), $repeat) FROM generate_series(1, $rows) i" \
      -c "VACUUM ANALYZE ${table}_$identity"
  done
  bytes=$(q -c "SELECT pg_column_size(t.*) FROM ${table}_default t LIMIT 1")
  for change in update delete; do
    sql_for() {
      [[ $change == update ]] && echo "UPDATE $1 SET b = b + 1" || echo "DELETE FROM $1 WHERE a % 10 = 0"
    }
    default=$(wal_kib "${table}_default" "$(sql_for "${table}_default")" DEFAULT)
    full=$(wal_kib "${table}_full" "$(sql_for "${table}_full")" FULL)
    printf '%-7s %9s %-8s %14s %14s %7s\n' "$table" "$bytes" "$change" "$default" "$full" \
      "$(echo "scale=2; $full / $default" | bc)"
  done
done
