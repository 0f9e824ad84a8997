-- clone_fixture.sql: a database that exercises everything `ferry db clone` must carry
-- across. Load it into an empty database (convention: `ferry_fixture`):
--
--   createdb -h HOST -p PORT -U postgres ferry_fixture
--   psql -X -v ON_ERROR_STOP=1 -d postgresql://postgres@HOST:PORT/ferry_fixture -f tests/data/clone_fixture.sql
--
-- and compare source and clone with tests/pg_equal.sh. Needs PostgreSQL 15 with the
-- contrib extensions btree_gist, pgcrypto, hstore, citext, and ICU and libxml (the
-- Debian build has all of them). Deterministic: no random(), no now(); pseudo-random
-- values come from md5() so every load produces the same rows. Takes a few seconds.
--
-- Covers:
--   names     schemas "Sales Data" (space, mixed case) and "données" (unicode); tables
--             "Customers", "order.items" (dot), "line items" (space), "événements";
--             columns "Full Name", "E-mail", "select", "note " (trailing space)
--   types     enums (incl. one in a quoted schema), domains with CHECK (over int and
--             citext), composite types, a custom range type (floatrange), arrays
--             (int[], 2-D int[], non-1 lower bound, text[] with quotes/NULL, enum[],
--             composite[]), json (duplicate keys, \u0000) and jsonb, xml, bytea (empty,
--             0x00, > 8 kB TOASTed), text > 8 kB (TOASTed, incompressible md5 strings),
--             numeric without typmod (1e1000, 1e-1000, NaN, +-Infinity, trailing zeros),
--             float4/float8 (NaN, +-Infinity, -0, denormals, extremes), money, inet,
--             cidr, macaddr, macaddr8, bit, bit varying, tsvector, tsquery, int4range,
--             int8range, numrange, tstzrange, daterange, int4multirange, uuid, date,
--             time, timetz, timestamp, timestamptz (+-infinity, BC), interval, char(n),
--             "char", name, oid, pg_lsn, point, box, circle, lseg, path, polygon,
--             citext, hstore; special text (tab, newline, CR, backslash, "\N", '')
--   columns   identity GENERATED ALWAYS and BY DEFAULT, serial, bigserial, a stored
--             generated column, a dropped column (dropped after rows were inserted),
--             rows with NULL in every nullable column, column collations (ICU)
--   tables    partitioned by range (3 partitions + default), by list (with a
--             sub-partitioned partition), by hash; legacy inheritance (INHERITS);
--             no primary key with duplicate identical rows; composite PK (int, text);
--             text PK whose order differs between C and en-US collation (twice: the
--             database's C.UTF-8 and an ICU en-US column); uuid PK; UNLOGGED; 0 rows;
--             public.big_events (200,000 rows, gaps in the id sequence, dead tuples);
--             public.wide_toast (300 rows x ~20 kB text + ~10 kB bytea)
--   schema    foreign keys (self-referencing, DEFERRABLE, across schemas), unique,
--             check (incl. one NOT VALID that existing rows violate), exclusion
--             (btree_gist); btree, partial, expression (on a SQL function), GIN on
--             jsonb, GiST on range indexes; views; materialized views (one with data
--             and a unique index, one WITH NO DATA); plpgsql and SQL functions;
--             a BEFORE INSERT trigger that bumps "Revision" (fires again on the target
--             if a clone copies with triggers enabled, so the copy would differ) and an
--             AFTER trigger writing to audit.log (likewise would add rows); comments
--             on schemas, tables, columns; a row-level security policy
--   sequences used (last_value > 1), increment 5 with is_called true, is_called
--             false after setval, descending, never used
--   large objects 3 (one empty-ish text, one with 0x00 bytes, one > 100 kB)

SET client_min_messages = warning;
SET TimeZone = 'UTC';
SELECT setseed(0.42) \g /dev/null
-- (nothing below uses random(); the seed keeps anything added later repeatable)

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS citext;

CREATE SCHEMA inventory;
CREATE SCHEMA "Sales Data";
CREATE SCHEMA "données";
CREATE SCHEMA audit;
COMMENT ON SCHEMA "Sales Data" IS 'customers and orders; the name needs quoting';
COMMENT ON SCHEMA "données" IS 'schéma au nom unicode';

-- ---------------------------------------------------------------- types
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic ☺');
CREATE TYPE "Sales Data"."Order Status" AS ENUM ('New', 'paid', 'Shipped', 'cancelled');
CREATE DOMAIN public.positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN public.email AS citext CONSTRAINT email_has_at CHECK (VALUE ~ '^[^@]+@[^@]+$');
CREATE TYPE public.address AS (street text, city text, zip varchar(10));
CREATE TYPE public.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);

-- ---------------------------------------------------------------- functions
CREATE FUNCTION inventory.price_with_tax(numeric) RETURNS numeric
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT round($1 * 1.2, 2) $$;

-- Pseudo-random but deterministic integer in [0, n) from a seed text.
CREATE FUNCTION public.det_int(seed text, n integer) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (('x' || substr(md5(seed), 1, 8))::bit(32)::bigint % n)::integer
  $$;

-- Incompressible text of about `bytes` bytes (hex md5 strings; pglz finds no repeats).
CREATE FUNCTION public.det_text(seed text, bytes integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT string_agg(md5(seed || ':' || g), '' ORDER BY g)
    FROM generate_series(1, greatest(1, bytes / 32)) AS g
  $$;

-- Binary bytes (every value 0..255 appears, 0x00 included) of about `bytes` bytes.
CREATE FUNCTION public.det_bytes(seed text, bytes integer) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT '\x00ff00'::bytea || decode(string_agg(md5(seed || ':' || g), '' ORDER BY g), 'hex')
    FROM generate_series(1, greatest(1, bytes / 16)) AS g
  $$;

CREATE FUNCTION public.bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."Revision" := coalesce(NEW."Revision", 0) + 1;
  RETURN NEW;
END
$$;

CREATE TABLE audit.log (
  id bigserial PRIMARY KEY,
  table_name text NOT NULL,
  operation text NOT NULL,
  row_data jsonb
);
COMMENT ON TABLE audit.log IS 'written by AFTER triggers; a clone that fires triggers would add rows';

CREATE FUNCTION audit.record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit.log (table_name, operation, row_data)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
          CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END);
  RETURN NULL;
END
$$;

-- ---------------------------------------------------------------- every type in one table
CREATE TABLE public.all_types (
  id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  c_bool boolean,
  c_int2 smallint,
  c_int4 integer,
  c_int8 bigint,
  c_numeric numeric,
  c_num_12_4 numeric(12, 4),
  c_float4 real,
  c_float8 double precision,
  c_money money,
  c_char char(5),
  c_qchar "char",
  c_name name,
  c_varchar varchar(20),
  c_text text,
  c_citext citext,
  c_bytea bytea,
  c_date date,
  c_time time,
  c_timetz timetz,
  c_ts timestamp,
  c_tstz timestamptz,
  c_interval interval,
  c_uuid uuid,
  c_inet inet,
  c_cidr cidr,
  c_macaddr macaddr,
  c_macaddr8 macaddr8,
  c_bit bit(8),
  c_varbit bit varying,
  c_json json,
  c_jsonb jsonb,
  c_xml xml,
  c_tsvector tsvector,
  c_tsquery tsquery,
  c_int4range int4range,
  c_int8range int8range,
  c_numrange numrange,
  c_tstzrange tstzrange,
  c_daterange daterange,
  c_floatrange floatrange,
  c_multirange int4multirange,
  c_int_arr integer[],
  c_int_2d integer[],
  c_text_arr text[],
  c_mood_arr mood[],
  c_addr_arr address[],
  c_mood mood,
  c_addr address,
  c_posint positive_int,
  c_email email,
  c_hstore hstore,
  c_oid oid,
  c_lsn pg_lsn,
  c_point point,
  c_box box,
  c_circle circle,
  c_lseg lseg,
  c_path path,
  c_polygon polygon
);
COMMENT ON TABLE public.all_types IS 'one column per type; row 3 is NULL everywhere it can be';
COMMENT ON COLUMN public.all_types.c_numeric IS 'numeric without typmod: 1e1000, 1e-1000, NaN, ±Infinity';

INSERT INTO public.all_types (c_bool, c_int2, c_int4, c_int8, c_numeric, c_num_12_4, c_float4, c_float8,
  c_money, c_char, c_qchar, c_name, c_varchar, c_text, c_citext, c_bytea, c_date, c_time, c_timetz, c_ts,
  c_tstz, c_interval, c_uuid, c_inet, c_cidr, c_macaddr, c_macaddr8, c_bit, c_varbit, c_json, c_jsonb,
  c_xml, c_tsvector, c_tsquery, c_int4range, c_int8range, c_numrange, c_tstzrange, c_daterange,
  c_floatrange, c_multirange, c_int_arr, c_int_2d, c_text_arr, c_mood_arr, c_addr_arr, c_mood, c_addr,
  c_posint, c_email, c_hstore, c_oid, c_lsn, c_point, c_box, c_circle, c_lseg, c_path, c_polygon)
VALUES
  -- 1: extremes and special values
  (true, -32768, -2147483648, -9223372036854775808,
   ('1' || repeat('0', 1000))::numeric, -99999999.9999, 'NaN', 'NaN',
   '-92233720368547758.08', 'ab', 'x', 'a_name', 'varchar', E'tab\there\nnewline\rCR back\\slash \\N end',
   'MiXeD CaSe', '', 'infinity', '00:00:00', '23:59:59.999999+14:59', '-infinity',
   'infinity', '178000000 years', '00000000-0000-0000-0000-000000000000',
   '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'10101010', B'',
   '{"b": 1,  "a": [1, 2, {"x": null}], "b": 2, "nul": "\u0000"}',
   '{"b": 1, "a": [1, 2.50, {"x": null}], "big": 1e400, "uni": "é☺\u00e9"}',
   '<a b="1">text &amp; more<![CDATA[ <raw> ]]></a>',
   to_tsvector('english', 'The quick brown foxes jumped over the lazy dogs'), 'fat & (rat | !cat)',
   'empty', '(,)', '[0.5,)', '[-infinity,infinity]', '[2024-01-01,2024-02-01)', '[-1.5,2.25)',
   '{[1,3),[5,7)}', '{1,NULL,3}', '{{1,2},{3,4}}', '{"a,b","NULL",NULL,"quote\"d","back\\slash",""," "}',
   '{happy,sad,"ecstatic ☺"}', ARRAY[ROW('1 Main St', 'Springfield', '12345')::address, NULL],
   'ecstatic ☺', ROW('Straße 1', 'Zürich', NULL), 1, 'Someone@Example.COM',
   'a=>1, "b c"=>NULL, "é"=>"ü"', 0, '16/B374D848', '(1.5,-2)', '((0,0),(1,1))', '<(0,0),1>',
   '[(0,0),(1,1)]', '((0,0),(1,1),(2,0))', '((0,0),(0,1),(1,1))'),
  -- 2: the other end of every range
  (false, 32767, 2147483647, 9223372036854775807,
   ('0.' || repeat('0', 999) || '1')::numeric, 99999999.9999, 'Infinity', '-Infinity',
   '92233720368547758.07', 'abcde', E'\\', 'name with space', '', '', '', '\x00',
   '-infinity', '24:00:00', '00:00:00-15:59', '4713-01-01 00:00:00 BC', '-infinity',
   '-1 day +01:59:59.999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
   '2001:db8::ff00:42:8329/64', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00', B'00000000',
   repeat('10', 500)::varbit, '[]', '{}', 'fragment<b/>then text', '', 'a:*',
   '[1,2)', '[-9223372036854775808,9223372036854775807)', '(,0]', 'empty', '(,)', 'empty',
   '{}', '{}', '[0:2]={7,8,9}', '{}', '{}', '{}', 'sad', ROW(NULL, NULL, NULL), 2147483647, 'x@y',
   '', 4294967295, '0/0', '(0,0)', '((1,1),(1,1))', '<(1e300,-1e300),0>',
   '[(0,0),(0,0)]', '[(0,0),(1,1)]', '((0,0))'),
  -- 3: NULL in every nullable column
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  -- 4: negative zero, denormals, float extremes, numeric specials
  (NULL, 0, 0, 0, 'NaN', 0, '-0', '-0', 0, '     ', ' ', '', 'trailing  ', '   ', 'é', '\xdeadbeef',
   '2000-02-29', '12:34:56.789012', '12:00:00+00', '2000-02-29 12:34:56.789012', '2024-03-31 01:30:00+01',
   '0', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '0.0.0.0/0', '0.0.0.0/0', '01:02:03:04:05:06',
   '01:02:03:ff:fe:04:05:06', B'11111111', B'1', 'null', 'null', '<?xml version="1.0"?><doc/>',
   'a:1A fat:2B,4C cat:5D', '!a', 'empty', 'empty', '[1e-20,1e20]', '(2000-01-01 00:00:00+00,)',
   '[4713-01-01 BC,5874897-12-30]', '(,)', '{[-2147483648,2147483647)}', '{}', '{{NULL}}', '{NULL}',
   '{NULL}', '{NULL}', NULL, ROW('', '', ''), NULL, NULL, '"\\"=>"\""', NULL, 'FFFFFFFF/FFFFFFFF',
   '(-0,0)', '((-1,-1),(-1,-1))', '<(0,0),0>', '[(1,2),(3,4)]', '((1,2))', '((1,2),(3,4),(5,6),(7,8))'),
  (NULL, NULL, NULL, NULL, 'Infinity', NULL, 1.17549435e-38, 5e-324, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, '-Infinity', NULL, 3.4028235e38, 1.7976931348623157e308, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, '-0.000', NULL, 1e-45, 2.2250738585072014e-308, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, 123.456000, NULL, 0.1, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- TOASTed values in the same table as everything else
UPDATE public.all_types
SET c_text = det_text('all_types', 12000), c_bytea = det_bytes('all_types', 12000),
    c_jsonb = jsonb_build_object('blob', det_text('jsonb', 9000))
WHERE id = 8;

-- a thousand ordinary rows with NULLs sprinkled by pattern
INSERT INTO public.all_types (c_bool, c_int2, c_int4, c_int8, c_numeric, c_num_12_4, c_float4, c_float8,
  c_money, c_char, c_text, c_citext, c_bytea, c_date, c_time, c_timetz, c_ts, c_tstz, c_interval, c_uuid, c_inet,
  c_cidr, c_macaddr, c_varbit, c_json, c_jsonb, c_xml, c_tsvector, c_int4range, c_tstzrange, c_daterange,
  c_int_arr, c_text_arr, c_mood_arr, c_addr_arr, c_mood, c_addr, c_posint, c_email, c_hstore, c_point)
SELECT
  CASE WHEN i % 11 = 0 THEN NULL ELSE i % 2 = 0 END,
  (i % 30000)::smallint,
  det_int('i4' || i, 2000000000) - 1000000000,
  det_int('i8' || i, 2000000000)::bigint * 4611686,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (det_int('n' || i, 1000000)::numeric / 7) ^ 3 END,
  round(det_int('n4' || i, 100000000)::numeric / 10000, 4),
  (det_int('f4' || i, 1000000)::real / 3),
  (det_int('f8' || i, 1000000)::double precision / 7) * 1e-5,
  (det_int('m' || i, 10000000)::numeric / 100)::money,
  substr(md5(i::text), 1, 1 + i % 5),
  CASE WHEN i % 17 = 0 THEN NULL ELSE 'row ' || i || ' ' || md5(i::text) END,
  CASE WHEN i % 2 = 0 THEN upper(md5(i::text)) ELSE md5(i::text) END,
  decode(md5(i::text), 'hex'),
  date '2000-01-01' + det_int('d' || i, 20000),
  time '00:00' + det_int('t' || i, 86400) * interval '1 second',
  (time '00:00' + det_int('tz' || i, 86400) * interval '1 second')::timetz,
  timestamp '1990-01-01' + det_int('ts' || i, 1000000000) * interval '1 second' + i * interval '1 microsecond',
  timestamptz '1990-01-01 00:00:00+00' + det_int('tstz' || i, 1000000000) * interval '1 second',
  make_interval(months => i % 25, days => i % 31, secs => i * 1.5),
  md5('uuid' || i)::uuid,
  ('10.' || (i / 65536) % 256 || '.' || (i / 256) % 256 || '.' || i % 256)::inet,
  ('10.' || i % 256 || '.0.0/16')::cidr,
  ('08:00:2b:' || lpad(to_hex(i % 256), 2, '0') || ':00:01')::macaddr,
  ('x' || substr(md5(i::text), 1, 1 + i % 8))::bit varying,
  CASE WHEN i % 19 = 0 THEN NULL ELSE json_build_object('i', i, 'h', md5(i::text)) END,
  jsonb_build_object('i', i, 'even', i % 2 = 0, 'tags', jsonb_build_array('t' || i % 5, 't' || i % 7),
                     'nested', jsonb_build_object('depth', i % 4)),
  CASE WHEN i % 23 = 0 THEN NULL ELSE xmlelement(name item, xmlattributes(i AS id), md5(i::text)) END,
  to_tsvector('simple', 'word' || i % 50 || ' other' || i % 7),
  int4range(i, i + i % 10 + 1),
  tstzrange(timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour',
            timestamptz '2024-01-01 00:00:00+00' + (i + 1 + i % 5) * interval '1 hour'),
  daterange(date '2024-01-01' + i % 300, date '2024-01-01' + i % 300 + 1 + i % 9),
  ARRAY[i, i * 2, NULLIF(i % 3, 0)],
  ARRAY['t' || i, NULL, 'x,y'],
  ARRAY[(enum_range(NULL::mood))[1 + i % 4]],
  ARRAY[ROW('street ' || i, 'city ' || i % 10, lpad((i % 99999)::text, 5, '0'))::address],
  (enum_range(NULL::mood))[1 + i % 4],
  ROW('street ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'city' END, 'z' || i)::address,
  1 + i,
  'user' || i || '@Example.org',
  hstore(ARRAY['k' || i % 3, 'n'], ARRAY[md5(i::text), NULL]),
  point(i, -i / 3.0)
FROM generate_series(1, 1000) AS i;

-- ---------------------------------------------------------------- inventory
CREATE TABLE inventory.categories (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  parent_id integer REFERENCES inventory.categories (id)
);
COMMENT ON TABLE inventory.categories IS 'self-referencing foreign key';

INSERT INTO inventory.categories (name, parent_id) VALUES ('root', NULL);
INSERT INTO inventory.categories (name, parent_id)
SELECT 'category ' || i, 1 + (i - 1) / 3 FROM generate_series(1, 40) AS i;

CREATE TABLE inventory.products (
  sku text PRIMARY KEY,
  category_id integer NOT NULL REFERENCES inventory.categories (id),
  name text NOT NULL,
  price numeric(10, 2) CHECK (price >= 0),
  tags text[],
  attrs jsonb,
  stock integer DEFAULT 0,
  valid_during daterange,
  CONSTRAINT sku_shape CHECK (sku ~ '^[A-Z]{3}-[0-9]+$')
);
COMMENT ON TABLE inventory.products IS 'text primary key; GIN, partial and expression indexes';
COMMENT ON COLUMN inventory.products.attrs IS 'free-form attributes (jsonb, GIN-indexed)';

INSERT INTO inventory.products (sku, category_id, name, price, tags, attrs, stock, valid_during)
SELECT 'SKU-' || i,
       2 + i % 40,
       CASE WHEN i = 7 THEN '' ELSE initcap('product ' || md5(i::text)) END, -- i=7 violates a NOT VALID check
       CASE WHEN i % 29 = 0 THEN NULL ELSE round(det_int('p' || i, 50000)::numeric / 100, 2) END,
       CASE WHEN i % 31 = 0 THEN NULL ELSE ARRAY['tag' || i % 4, 'tag' || i % 9] END,
       CASE WHEN i % 37 = 0 THEN NULL
            ELSE jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[1 + i % 3], 'weight', i % 100) END,
       CASE WHEN i % 41 = 0 THEN NULL ELSE i % 500 END,
       CASE WHEN i % 43 = 0 THEN NULL ELSE daterange(date '2023-01-01' + i % 365, NULL) END
FROM generate_series(1, 3000) AS i;

ALTER TABLE inventory.products ADD CONSTRAINT name_not_blank CHECK (name <> '') NOT VALID;
CREATE INDEX products_attrs_gin ON inventory.products USING gin (attrs jsonb_path_ops);
CREATE INDEX products_expensive ON inventory.products (price) WHERE price > 400;
CREATE INDEX products_lower_name ON inventory.products (lower(name));
CREATE INDEX products_price_tax ON inventory.products (inventory.price_with_tax(price));
CREATE INDEX products_valid_gist ON inventory.products USING gist (valid_during);
CREATE INDEX products_tags_gin ON inventory.products USING gin (tags);

CREATE VIEW inventory.product_summary AS
SELECT c.name AS category, count(*) AS products, sum(p.stock) AS stock,
       max(inventory.price_with_tax(p.price)) AS max_price_with_tax
FROM inventory.products p JOIN inventory.categories c ON c.id = p.category_id
GROUP BY c.name;

-- ---------------------------------------------------------------- "Sales Data"
CREATE TABLE "Sales Data"."Customers" (
  "CustomerID" bigserial PRIMARY KEY,
  "Full Name" text NOT NULL,
  "E-mail" email UNIQUE,
  "Address" address,
  props hstore,
  mood mood,
  "Revision" integer NOT NULL DEFAULT 0,
  "select" text,
  "note " text
);
COMMENT ON TABLE "Sales Data"."Customers" IS 'quoted names; BEFORE INSERT trigger bumps "Revision"';
COMMENT ON COLUMN "Sales Data"."Customers"."Full Name" IS 'column name with a space';

CREATE TRIGGER "Bump Revision" BEFORE INSERT OR UPDATE ON "Sales Data"."Customers"
  FOR EACH ROW EXECUTE FUNCTION public.bump_revision();

INSERT INTO "Sales Data"."Customers" ("Full Name", "E-mail", "Address", props, mood, "select", "note ")
SELECT CASE i % 4 WHEN 0 THEN 'Zoë ' WHEN 1 THEN 'Émile ' WHEN 2 THEN 'o''Brien ' ELSE 'ÅSA ' END || i,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'Customer' || i || '@Example.com' END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE ROW(i || ' High St', 'Town ' || i % 20, lpad(i::text, 5, '0'))::address END,
       CASE WHEN i % 8 = 0 THEN NULL ELSE hstore('tier', (i % 3)::text) END,
       CASE WHEN i % 9 = 0 THEN NULL ELSE (enum_range(NULL::mood))[1 + i % 4] END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'reserved word column' END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE E'note\\with\\backslashes\tand tab' END
FROM generate_series(1, 500) AS i;
UPDATE "Sales Data"."Customers" SET mood = 'happy' WHERE "CustomerID" % 50 = 0; -- "Revision" becomes 2

CREATE TABLE "Sales Data"."Orders" (
  "OrderID" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "CustomerID" bigint NOT NULL REFERENCES "Sales Data"."Customers" ("CustomerID") ON DELETE CASCADE,
  status "Sales Data"."Order Status" NOT NULL DEFAULT 'New',
  history "Sales Data"."Order Status"[],
  ordered_at timestamptz NOT NULL,
  shipped_on date,
  CHECK (shipped_on IS NULL OR shipped_on >= date '2024-01-01')
);
CREATE INDEX "Orders_by_customer" ON "Sales Data"."Orders" ("CustomerID", ordered_at DESC);
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON "Sales Data"."Orders"
  FOR EACH ROW EXECUTE FUNCTION audit.record_change();

INSERT INTO "Sales Data"."Orders" ("CustomerID", status, history, ordered_at, shipped_on)
SELECT 1 + i % 500,
       (enum_range(NULL::"Sales Data"."Order Status"))[1 + i % 4],
       CASE WHEN i % 3 = 0 THEN NULL ELSE (enum_range(NULL::"Sales Data"."Order Status"))[1:1 + i % 4] END,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes',
       CASE WHEN i % 4 = 2 THEN date '2024-01-01' + i * 37 / 1440 + 2 END
FROM generate_series(1, 2000) AS i;
UPDATE "Sales Data"."Orders" SET status = 'cancelled' WHERE "OrderID" % 97 = 0;
DELETE FROM "Sales Data"."Orders" WHERE "OrderID" % 199 = 0;

CREATE TABLE "Sales Data"."order.items" (
  "OrderID" integer NOT NULL,
  "LineNo" text NOT NULL,
  sku text REFERENCES inventory.products (sku),
  "Quantity" positive_int NOT NULL,
  "Unit Price" numeric(10, 2) NOT NULL,
  "Line Total" numeric GENERATED ALWAYS AS ("Quantity" * "Unit Price") STORED,
  PRIMARY KEY ("OrderID", "LineNo"),
  FOREIGN KEY ("OrderID") REFERENCES "Sales Data"."Orders" ("OrderID")
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON TABLE "Sales Data"."order.items" IS 'dot in the name; composite (int, text) key; generated column';

INSERT INTO "Sales Data"."order.items" ("OrderID", "LineNo", sku, "Quantity", "Unit Price")
SELECT o."OrderID", chr(64 + l) || l, CASE WHEN l = 3 THEN NULL ELSE 'SKU-' || (1 + (o."OrderID" * l) % 3000) END,
       1 + (o."OrderID" + l) % 9, round(det_int('up' || o."OrderID" || l, 100000)::numeric / 100, 2)
FROM "Sales Data"."Orders" o, generate_series(1, 1 + "OrderID" % 4) AS l;

CREATE TABLE public."line items" (
  "Line ID" integer PRIMARY KEY,
  "Description" text
);
INSERT INTO public."line items" VALUES (1, 'space in table name'), (2, NULL), (3, 'ǅ titlecase');

CREATE VIEW "Sales Data"."Customer Orders" AS
SELECT c."CustomerID", c."Full Name", count(o.*) AS orders, max(o.ordered_at) AS last_order
FROM "Sales Data"."Customers" c LEFT JOIN "Sales Data"."Orders" o USING ("CustomerID")
GROUP BY c."CustomerID", c."Full Name";

-- ---------------------------------------------------------------- unicode schema
CREATE TABLE "données"."événements" (
  id serial PRIMARY KEY,
  "libellé" text NOT NULL,
  "montant €" numeric(12, 2),
  "créé le" date
);
COMMENT ON TABLE "données"."événements" IS 'noms unicode partout';
COMMENT ON COLUMN "données"."événements"."montant €" IS 'montant en euros';
INSERT INTO "données"."événements" ("libellé", "montant €", "créé le")
SELECT 'événement nº ' || i || ' — ' || (ARRAY['été', 'hiver', 'Ärger', '日本語', '🙂'])[1 + i % 5],
       CASE WHEN i % 6 = 0 THEN NULL ELSE i * 1.25 END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE date '2023-06-01' + i END
FROM generate_series(1, 300) AS i;

-- ---------------------------------------------------------------- keys and ordering
-- Sorted under C: "Apple" < "Banana" < "apple" < "Émile" ...; under en-US: apple < Apple < ...
CREATE TABLE public.collation_keys (
  k text PRIMARY KEY,
  v integer
);
CREATE TABLE public.collation_keys_icu (
  k text COLLATE "en-US-x-icu" PRIMARY KEY,
  v integer
);
COMMENT ON TABLE public.collation_keys_icu IS 'primary key with an ICU en-US column collation';
INSERT INTO public.collation_keys (k, v)
SELECT k, ord FROM unnest(ARRAY['apple', 'Apple', 'APPLE', 'banana', 'Banana', 'éclair', 'Eclair', 'eclair',
  'Émile', 'zebra', 'Zürich', 'zurich', '_underscore', '-dash', '10', '9', '1 0', 'a b', 'ab', 'a-b', 'Ab',
  'ß', 'ss', 'æ', 'ae', 'Œuvre', 'oeuvre', 'ǅ', 'ı', 'İ', '日本', '🙂', ' leading space', 'trailing space ',
  '', E'tab\there']) WITH ORDINALITY AS t(k, ord);
INSERT INTO public.collation_keys (k, v)
SELECT (ARRAY['a', 'A', 'é', 'E', 'z', 'Z', '_'])[1 + i % 7] || md5(i::text), i + 100 FROM generate_series(1, 2000) AS i;
INSERT INTO public.collation_keys_icu SELECT * FROM public.collation_keys;

CREATE TABLE public.uuid_keyed (
  id uuid PRIMARY KEY,
  payload jsonb,
  seq integer
);
INSERT INTO public.uuid_keyed
SELECT md5('uuid-key-' || i)::uuid,
       CASE WHEN i % 10 = 0 THEN NULL ELSE jsonb_build_object('n', i) END,
       CASE WHEN i % 10 = 1 THEN NULL ELSE i END
FROM generate_series(1, 5000) AS i;
INSERT INTO public.uuid_keyed VALUES ('00000000-0000-0000-0000-000000000000', NULL, NULL),
                                     ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', 0);

-- no primary key and no unique index; identical rows must be copied as many times as they occur
CREATE TABLE public.no_pk_dups (
  a integer,
  b text,
  c jsonb
);
COMMENT ON TABLE public.no_pk_dups IS 'no key at all; duplicate identical rows (incl. all-NULL ones)';
INSERT INTO public.no_pk_dups
SELECT i % 10, 'dup ' || i % 10, jsonb_build_object('k', i % 3) FROM generate_series(1, 1000) AS i;
INSERT INTO public.no_pk_dups VALUES (NULL, NULL, NULL), (NULL, NULL, NULL), (NULL, NULL, NULL);

CREATE UNLOGGED TABLE public.unlogged_cache (
  key text PRIMARY KEY,
  value bytea,
  expires_at timestamptz
);
INSERT INTO public.unlogged_cache
SELECT 'cache:' || i, decode(md5(i::text), 'hex'),
       CASE WHEN i % 4 = 0 THEN NULL ELSE timestamptz '2030-01-01 00:00:00+00' + i * interval '1 minute' END
FROM generate_series(1, 500) AS i;

CREATE TABLE public.empty_table (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  note text
);
COMMENT ON TABLE public.empty_table IS 'stays empty';

-- a column dropped after rows were written: the heap still holds its values
CREATE TABLE public.dropped_cols (
  id integer PRIMARY KEY,
  keep_before text,
  gone text,
  keep_after numeric
);
INSERT INTO public.dropped_cols SELECT i, 'before ' || i, repeat('g', i % 100), i / 3.0 FROM generate_series(1, 400) AS i;
ALTER TABLE public.dropped_cols DROP COLUMN gone;
ALTER TABLE public.dropped_cols ADD COLUMN added_later text DEFAULT 'default for old rows';
INSERT INTO public.dropped_cols (id, keep_before, keep_after, added_later)
SELECT i, NULL, NULL, NULL FROM generate_series(401, 410) AS i;

CREATE TABLE public."Mixed Case" (
  "ID" integer PRIMARY KEY,
  "Value" text,
  "value" text,
  "UPPER" boolean
);
COMMENT ON COLUMN public."Mixed Case"."Value" IS 'differs from "value" only by case';
INSERT INTO public."Mixed Case" VALUES (1, 'Upper V', 'lower v', true), (2, NULL, NULL, NULL), (3, '"', '''', false);

-- legacy inheritance: SELECT from the parent also returns the child's rows
CREATE TABLE public.vehicles (
  id integer PRIMARY KEY,
  wheels integer NOT NULL
);
CREATE TABLE public.trucks (
  payload_kg integer
) INHERITS (public.vehicles);
INSERT INTO public.vehicles SELECT i, 4 FROM generate_series(1, 20) AS i;
INSERT INTO public.trucks SELECT i, 6 + i % 3 * 2, CASE WHEN i % 2 = 0 THEN NULL ELSE i * 1000 END
FROM generate_series(21, 30) AS i;

-- ---------------------------------------------------------------- constraints of every kind
CREATE TABLE public.room_bookings (
  id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  room integer NOT NULL,
  during tstzrange NOT NULL,
  guest text,
  CONSTRAINT no_double_booking EXCLUDE USING gist (room WITH =, during WITH &&),
  CONSTRAINT room_range CHECK (room BETWEEN 1 AND 50),
  CONSTRAINT guest_room UNIQUE (guest, room)
);
CREATE INDEX room_bookings_during ON public.room_bookings USING gist (during);
INSERT INTO public.room_bookings (room, during, guest)
SELECT 1 + i % 50,
       tstzrange(timestamptz '2024-06-01 14:00:00+00' + (i / 50) * interval '1 day',
                 timestamptz '2024-06-02 10:00:00+00' + (i / 50) * interval '1 day'),
       CASE WHEN i % 13 = 0 THEN NULL ELSE 'guest ' || i END
FROM generate_series(0, 1999) AS i;

-- row-level security: the fixture owner (a superuser) bypasses it, a clone must keep it
CREATE TABLE public.tenant_notes (
  id serial PRIMARY KEY,
  tenant text NOT NULL,
  note text
);
ALTER TABLE public.tenant_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.tenant_notes
  USING (tenant = current_setting('app.tenant', true))
  WITH CHECK (tenant = current_setting('app.tenant', true));
INSERT INTO public.tenant_notes (tenant, note)
SELECT 'tenant' || i % 3, CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END FROM generate_series(1, 60) AS i;

-- ---------------------------------------------------------------- partitioned tables
CREATE TABLE public.events_by_day (
  id bigserial,
  day date NOT NULL,
  kind text,
  amount numeric(12, 2),
  PRIMARY KEY (id, day)
) PARTITION BY RANGE (day);
CREATE TABLE public.events_by_day_2024_01 PARTITION OF public.events_by_day
  FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE public.events_by_day_2024_02 PARTITION OF public.events_by_day
  FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE public.events_by_day_2024_03 PARTITION OF public.events_by_day
  FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
CREATE TABLE public.events_by_day_default PARTITION OF public.events_by_day DEFAULT;
CREATE INDEX events_by_day_kind ON public.events_by_day (kind);
COMMENT ON TABLE public.events_by_day IS 'range partitioned: 3 monthly partitions + default';
INSERT INTO public.events_by_day (day, kind, amount)
SELECT date '2023-12-15' + i % 140,
       CASE WHEN i % 21 = 0 THEN NULL ELSE (ARRAY['click', 'view', 'buy'])[1 + i % 3] END,
       CASE WHEN i % 8 = 0 THEN NULL ELSE (i % 1000) / 4.0 END
FROM generate_series(1, 6000) AS i;

CREATE TABLE public.sales_by_region (
  id integer NOT NULL,
  region text NOT NULL,
  sold_on date NOT NULL,
  total money
) PARTITION BY LIST (region);
CREATE TABLE public.sales_by_region_europe PARTITION OF public.sales_by_region FOR VALUES IN ('eu', 'uk');
CREATE TABLE public.sales_by_region_america PARTITION OF public.sales_by_region FOR VALUES IN ('us', 'ca');
CREATE TABLE public.sales_by_region_apac PARTITION OF public.sales_by_region FOR VALUES IN ('apac')
  PARTITION BY RANGE (sold_on);
CREATE TABLE public.sales_by_region_apac_h1 PARTITION OF public.sales_by_region_apac
  FOR VALUES FROM (MINVALUE) TO ('2024-07-01');
CREATE TABLE public.sales_by_region_apac_h2 PARTITION OF public.sales_by_region_apac
  FOR VALUES FROM ('2024-07-01') TO (MAXVALUE);
CREATE TABLE public.sales_by_region_other PARTITION OF public.sales_by_region DEFAULT;
ALTER TABLE public.sales_by_region ADD PRIMARY KEY (id, region, sold_on);
INSERT INTO public.sales_by_region
SELECT i, (ARRAY['eu', 'uk', 'us', 'ca', 'apac', 'apac', 'latam'])[1 + i % 7], date '2024-01-01' + i % 366,
       CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 3.5)::numeric::money END
FROM generate_series(1, 3000) AS i;

CREATE TABLE public.sessions_hash (
  session_id uuid PRIMARY KEY,
  user_name text,
  started_at timestamptz
) PARTITION BY HASH (session_id);
CREATE TABLE public.sessions_hash_0 PARTITION OF public.sessions_hash FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE public.sessions_hash_1 PARTITION OF public.sessions_hash FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE public.sessions_hash_2 PARTITION OF public.sessions_hash FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO public.sessions_hash
SELECT md5('session' || i)::uuid, CASE WHEN i % 10 = 0 THEN NULL ELSE 'user' || i % 100 END,
       timestamptz '2024-05-01 00:00:00+00' + i * interval '90 seconds'
FROM generate_series(1, 3000) AS i;

-- ---------------------------------------------------------------- big and wide tables
CREATE TABLE public.big_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  user_id integer,
  kind text NOT NULL,
  score double precision,
  note text,
  props jsonb
);
COMMENT ON TABLE public.big_events IS '200,000 rows (minus deleted ones): large enough to copy in ranges';
INSERT INTO public.big_events (occurred_at, user_id, kind, score, note, props)
SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '13 seconds',
       CASE WHEN i % 50 = 0 THEN NULL ELSE i % 9973 END,
       (ARRAY['login', 'logout', 'purchase', 'view', 'search'])[1 + i % 5],
       CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 10007) / 3.0 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'event ' || i || ' ' || md5(i::text) END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'p', i % 17) END
FROM generate_series(1, 201000) AS i;
DELETE FROM public.big_events WHERE id % 201 = 0; -- gaps in the key and dead tuples
UPDATE public.big_events SET note = 'updated' WHERE id % 1000 = 1;
CREATE INDEX big_events_occurred_at ON public.big_events (occurred_at);
CREATE INDEX big_events_user ON public.big_events (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE public.wide_toast (
  id integer PRIMARY KEY,
  body text,
  blob bytea
);
COMMENT ON TABLE public.wide_toast IS '~20 kB text and ~10 kB bytea per row, stored out of line';
INSERT INTO public.wide_toast
SELECT i, det_text('body' || i, 20000), CASE WHEN i % 50 = 0 THEN NULL ELSE det_bytes('blob' || i, 10000) END
FROM generate_series(1, 300) AS i;

-- ---------------------------------------------------------------- materialized views
CREATE MATERIALIZED VIEW public.daily_event_counts AS
SELECT occurred_at::date AS day, kind, count(*) AS events, avg(score::numeric) AS avg_score -- numeric: exact whatever the row order
FROM public.big_events GROUP BY 1, 2
WITH DATA;
CREATE UNIQUE INDEX daily_event_counts_key ON public.daily_event_counts (day, kind);
COMMENT ON MATERIALIZED VIEW public.daily_event_counts IS 'populated; unique index';

CREATE MATERIALIZED VIEW public.unpopulated_summary AS
SELECT kind, count(*) AS n FROM public.big_events GROUP BY kind
WITH NO DATA;

-- ---------------------------------------------------------------- sequences
CREATE SEQUENCE public.invoice_no_seq INCREMENT BY 5 START WITH 100;
CREATE SEQUENCE public.reset_seq;
CREATE SEQUENCE public.countdown_seq AS integer INCREMENT BY -1 MINVALUE -1000 MAXVALUE 10 START WITH 10;
CREATE SEQUENCE public.never_used_seq;
CREATE SEQUENCE "Sales Data"."Invoice Numbers" START WITH 1000 CACHE 10;
DO $$
BEGIN
  PERFORM setval('public.invoice_no_seq', 1000, true);
  PERFORM nextval('public.invoice_no_seq') FROM generate_series(1, 3); -- last_value 1015, is_called
  PERFORM nextval('public.reset_seq') FROM generate_series(1, 10);
  PERFORM setval('public.reset_seq', 50, false);                       -- is_called false: next value is 50
  PERFORM nextval('public.countdown_seq') FROM generate_series(1, 3);  -- last_value 8
  PERFORM nextval('"Sales Data"."Invoice Numbers"');
END
$$;

-- ---------------------------------------------------------------- large objects
DO $$
BEGIN
  PERFORM lo_from_bytea(0, convert_to('a small large object', 'UTF8'));
  PERFORM lo_from_bytea(0, '\x000102ff00'::bytea || det_bytes('lo-binary', 4000));
  PERFORM lo_from_bytea(0, det_bytes('lo-big', 120000)); -- > 100 kB: many pg_largeobject pages
END
$$;

ANALYZE;
