#!/usr/bin/env bash
# Fills a database with a deterministic dataset of about SCALE_GB gigabytes for
# the clone benchmarks (bench/clone_vs_pgcopydb.sh):
#
#   ~60%  pgbench tables (pgbench -i -s S): many narrow rows, one big table
#   ~20%  bench_wide: 40 columns of mixed types (int, bigint, numeric, text,
#         timestamptz, jsonb, bool, uuid), a primary key and one secondary index
#   ~20%  bench_toast: text bodies of 10-30 kB and bytea of 2-8 kB per row, all
#         stored out of line; built from md5 digests, which pglz leaves
#         uncompressed (the bytea is random bytes)
#
# Every value derives from the row number (no random()), so two runs give the
# same rows. The database should be empty; existing bench tables are replaced.
#
# usage: bench/gen_clone_dataset.sh URI SCALE_GB
set -euo pipefail
uri=${1:?usage: gen_clone_dataset.sh URI SCALE_GB}
scale_gb=${2:?usage: gen_clone_dataset.sh URI SCALE_GB}

# Measured sizes on PostgreSQL 15 (table + TOAST + indexes, after VACUUM):
#   pgbench scale 1        ~15.0 MB
#   one bench_wide row     ~710 bytes
#   one bench_toast row    ~26.8 kB (pglz leaves the bodies uncompressed)
pgbench_scale=$(echo "s = $scale_gb * 1024 * 0.6 / 15.0 + 0.5; scale = 0; s / 1" | bc -l)
((pgbench_scale >= 1)) || pgbench_scale=1
wide_rows=$(echo "$scale_gb * 1024 * 1024 * 1024 * 0.2 / 710" | bc)
toast_rows=$(echo "$scale_gb * 1024 * 1024 * 1024 * 0.2 / 26800" | bc)
((toast_rows >= 1)) || toast_rows=1

psql_() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$uri" "$@"; }

echo "gen_clone_dataset: pgbench scale $pgbench_scale, $wide_rows wide rows, $toast_rows toast rows" >&2
if ! out=$(PGOPTIONS="-c client_min_messages=warning" pgbench -i -q -s "$pgbench_scale" "$uri" 2>&1); then
  echo "$out" >&2
  echo "gen_clone_dataset: pgbench -i failed" >&2
  exit 1
fi
grep -v 'tuples (.*done' <<<"$out" >&2 || true

psql_ <<SQL
DROP TABLE IF EXISTS bench_wide, bench_toast;

CREATE TABLE bench_wide (
  id       bigint PRIMARY KEY,
  c_int1   int, c_int2 int, c_int3 int, c_int4 int, c_int5 int, c_int6 int,
  c_big1   bigint, c_big2 bigint, c_big3 bigint, c_big4 bigint, c_big5 bigint, c_big6 bigint,
  c_num1   numeric(14,2), c_num2 numeric(14,2), c_num3 numeric(18,4), c_num4 numeric, c_num5 numeric(10,0),
  c_text1  text, c_text2 text, c_text3 text, c_text4 text, c_text5 text, c_text6 text,
  c_ts1    timestamptz, c_ts2 timestamptz, c_ts3 timestamptz, c_ts4 timestamptz, c_ts5 timestamptz,
  c_js1    jsonb, c_js2 jsonb, c_js3 jsonb,
  c_bool1  bool, c_bool2 bool, c_bool3 bool, c_bool4 bool, c_bool5 bool,
  c_uuid1  uuid, c_uuid2 uuid, c_uuid3 uuid
);

INSERT INTO bench_wide
SELECT i,
  (i * 7919) % 1000003, (i * 104729) % 65536, i % 97, -(i % 100000), (i * 31) % 2147483, i % 3,
  i * 1000003, (i * 2654435761) % 9223372036854775, -i * 17, i % 1000000007, i << 20, i * i,
  ((i * 7919) % 10000000) / 100.0, ((i * 31337) % 1000000) / 100.0, ((i * 271828) % 100000000) / 10000.0,
  (i * 3.14159265358979)::numeric, i % 1000000,
  'customer-' || i, md5(i::text), substr(md5('b' || i) || md5('c' || i), 1, 10 + (i % 50)::int),
  CASE WHEN i % 10 = 0 THEN NULL ELSE 'status-' || (i % 7) END,
  repeat(chr(97 + (i % 26)::int), (i % 40)::int) || md5('d' || i),
  'Straße ' || i || ' — Zürich ✓',
  timestamptz '2020-01-01 00:00:00+00' + make_interval(secs => i * 37),
  timestamptz '2021-06-15 12:00:00+00' - make_interval(secs => (i * 7919) % 100000000),
  timestamptz '2019-03-01 08:30:00+00' + make_interval(days => (i % 1500)::int, secs => i % 86400),
  CASE WHEN i % 5 = 0 THEN NULL ELSE timestamptz '2022-01-01 00:00:00+00' + make_interval(secs => i) END,
  timestamptz '2000-01-01 00:00:00+00' + make_interval(secs => (i * 104729) % 800000000),
  jsonb_build_object('id', i, 'kind', 'order', 'qty', i % 13, 'tags', jsonb_build_array('a' || (i % 5), 'b' || (i % 7))),
  jsonb_build_object('addr', jsonb_build_object('city', 'City ' || (i % 1000), 'zip', lpad((i % 99999)::text, 5, '0')),
                     'active', i % 2 = 0),
  CASE WHEN i % 3 = 0 THEN NULL ELSE jsonb_build_array(i, i * 2, md5(i::text)) END,
  i % 2 = 0, i % 3 = 0, i % 5 = 0, i % 7 = 0, CASE WHEN i % 11 = 0 THEN NULL ELSE i % 13 = 0 END,
  md5('u1' || i)::uuid, md5('u2' || i)::uuid, CASE WHEN i % 4 = 0 THEN NULL ELSE md5('u3' || i)::uuid END
FROM generate_series(1::bigint, $wide_rows) AS i;
CREATE INDEX bench_wide_ts1 ON bench_wide (c_ts1);

CREATE TABLE bench_toast (
  id    int PRIMARY KEY,
  title text NOT NULL,
  body  text NOT NULL,
  blob  bytea
);

-- body: 300-900 md5 hex digests (9.6-28.8 kB); blob: 128-512 digests decoded to
-- raw bytes (2-8 kB of random bytes).
INSERT INTO bench_toast
SELECT i, 'document ' || i,
  (SELECT string_agg(md5(i || ':' || j), ' ' ORDER BY j) FROM generate_series(1, 300 + (i * 7919) % 601) AS j),
  CASE WHEN i % 10 = 0 THEN NULL
       ELSE (SELECT decode(string_agg(md5(i || '#' || j), '' ORDER BY j), 'hex')
             FROM generate_series(1, 128 + (i * 104729) % 385) AS j) END
FROM generate_series(1, $toast_rows) AS i;

VACUUM ANALYZE bench_wide, bench_toast;
SQL

psql_ -P footer=off <<'SQL'
SELECT c.relname AS "table", c.reltuples::bigint AS "rows (est.)",
       pg_size_pretty(pg_total_relation_size(c.oid)) AS "total size"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY pg_total_relation_size(c.oid) DESC;
SELECT pg_size_pretty(pg_database_size(current_database())) AS "database size",
       pg_database_size(current_database()) AS bytes;
SQL
