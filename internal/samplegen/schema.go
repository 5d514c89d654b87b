package samplegen

import (
	"fmt"
	"strings"
)

// mendixSchema is the part of a Mendix app's schema every sample has: the
// System module's file documents and users, the runtime's own bookkeeping
// tables, and a module with an entity, an autonumber and an association.
// Names follow Mendix: module$entity, quoted because of the '$', columns
// named after reserved words.
const mendixSchema = `
CREATE TABLE "mendixsystem$version" (
	versionnumber varchar(30) NOT NULL,
	lastsyncdate timestamp,
	modelversion varchar(200)
);
CREATE TABLE "mendixsystem$entity" (
	id uuid PRIMARY KEY,
	entity_name varchar(255) NOT NULL,
	table_name varchar(255) NOT NULL,
	superentity_id uuid
);
CREATE UNIQUE INDEX "idx_mendixsystem$entity_entity_name" ON "mendixsystem$entity" (entity_name);
CREATE TABLE "system$user" (
	id bigint PRIMARY KEY,
	name varchar(100),
	password varchar(100),
	lastlogin timestamp,
	blocked boolean,
	active boolean,
	isanonymous boolean,
	submetaobjectname varchar(255),
	createddate timestamp,
	changeddate timestamp
);
CREATE UNIQUE INDEX "idx_system$user_name" ON "system$user" (name);
CREATE TABLE "system$filedocument" (
	id bigint PRIMARY KEY,
	__uuid__ varchar(36),
	__filename__ bigint,
	name varchar(400),
	deleteafterdownload boolean,
	hascontents boolean,
	size bigint,
	submetaobjectname varchar(255),
	createddate timestamp,
	changeddate timestamp,
	"system$owner" bigint,
	"system$changedby" bigint
);
CREATE INDEX "idx_system$filedocument_submetaobjectname" ON "system$filedocument" (submetaobjectname, id);
CREATE TABLE "system$image" (
	id bigint PRIMARY KEY,
	publicthumbnailpath varchar(510),
	enablecaching boolean
);
CREATE TABLE "system$thumbnail" (
	id bigint PRIMARY KEY
);
CREATE TABLE "system$thumbnail_image" (
	"system$thumbnailid" bigint NOT NULL,
	"system$imageid" bigint NOT NULL,
	PRIMARY KEY ("system$thumbnailid", "system$imageid")
);
CREATE SEQUENCE "system$filedocument_fileid_mxseq" START WITH 1;
CREATE TABLE "myfirstmodule$customer" (
	id bigint PRIMARY KEY,
	name varchar(200),
	email varchar(200),
	"user" varchar(100),
	createddate timestamp,
	changeddate timestamp
);
CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY,
	number bigint,
	"order" varchar(200),
	"select" text,
	total numeric(28,8),
	quantity integer,
	priority smallint,
	weight double precision,
	paid boolean,
	notes text,
	signature bytea,
	orderdate timestamp,
	shipped timestamptz,
	createddate timestamp,
	changeddate timestamp
);
CREATE INDEX "idx_myfirstmodule$order_createddate" ON "myfirstmodule$order" (createddate);
ALTER TABLE "myfirstmodule$order" ADD CONSTRAINT "uniq_myfirstmodule$order_number" UNIQUE (number);
CREATE SEQUENCE "myfirstmodule$order_number_mxseq" START WITH 1;
CREATE TABLE "myfirstmodule$order_customer" (
	"myfirstmodule$orderid" bigint NOT NULL,
	"myfirstmodule$customerid" bigint NOT NULL,
	PRIMARY KEY ("myfirstmodule$orderid", "myfirstmodule$customerid")
);
CREATE INDEX "idx_myfirstmodule$order_customer_customer" ON "myfirstmodule$order_customer" ("myfirstmodule$customerid", "myfirstmodule$orderid");
CREATE TABLE "myfirstmodule$emptyentity" (
	id bigint PRIMARY KEY,
	label varchar(20)
);
`

// fillRows fills the fixed tables: users, customers and orders scaled by
// rows, with values at the edges PostgreSQL and SQL Server disagree about
// mixed in (NULLs, empty strings, unicode beyond the BMP, control
// characters, the text \N, numeric(28,8) extremes, year 1 and 9999).
func fillRows(modelVersion string, rows int) string {
	return fmt.Sprintf(`
INSERT INTO "mendixsystem$version" VALUES ('9.24.0', '2026-11-01 10:00:00', %s);
INSERT INTO "mendixsystem$entity" (id, entity_name, table_name)
  SELECT md5('entity' || g)::uuid, 'Module.Entity' || g, 'module$entity' || g FROM generate_series(1, 40) g;
INSERT INTO "system$user"
  SELECT g, 'user' || g, CASE WHEN g %% 3 = 0 THEN NULL ELSE md5(g::text) END,
         timestamp '2026-01-01' + g * interval '1 minute', g %% 17 = 0, g %% 5 <> 0, false,
         'Administration.Account', timestamp '2025-01-01' + g * interval '1 hour', now()::timestamp(6)
  FROM generate_series(1, %[2]d / 10 + 5) g;
INSERT INTO "myfirstmodule$customer"
  SELECT g, 'Customer ' || g, 'c' || g || '@example.com', 'user' || (g %% 7), timestamp '2024-06-01' + g * interval '37 seconds', NULL
  FROM generate_series(1, %[2]d / 4 + 5) g;
INSERT INTO "myfirstmodule$order"
  SELECT g, g, 'Order ' || g, repeat('lorem ipsum ', g %% 9),
         ((g * 7919) %% 1000000000)::numeric / 1000 + 0.12345678,
         g %% 1000, (g %% 7)::smallint, g * 1.5e-3, g %% 2 = 0,
         CASE WHEN g %% 11 = 0 THEN NULL WHEN g %% 13 = 0 THEN '' ELSE 'note ' || g END,
         CASE WHEN g %% 5 = 0 THEN decode(lpad(to_hex(g), 8, '0'), 'hex') END,
         timestamp '2020-01-01 00:00:00.000001' + g * interval '1 second 1 microsecond',
         timestamptz '2021-06-30 23:59:59.999999+02' + g * interval '1 minute',
         timestamp '2024-01-01' + g * interval '1 second', NULL
  FROM generate_series(1, %[2]d) g;
-- The hostile rows: every value a naive converter gets wrong.
INSERT INTO "myfirstmodule$order" VALUES
  (-1, -1, '', E'tab\there\nnewline\\backslash', 99999999999999999999.99999999, -2147483648, -32768, 1e308, true,
   E'\\N', '\x00ff00'::bytea, '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'),
  (-2, -2, NULL, '😀 𝄞 emoji and music beyond the BMP', -99999999999999999999.99999999, 2147483647, 32767, -1e-300, false,
   'ünïcödé ß ø 中文', '\x'::bytea, '1999-12-31 23:59:59.5', '2000-01-01 00:00:00.000001+14', NULL, NULL),
  (-3, -3, 'trailing space ', E'\\\\N', 0.00000001, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "myfirstmodule$order_customer"
  SELECT g, 1 + (g %% (%[2]d / 4 + 5)) FROM generate_series(1, %[2]d) g;
SELECT setval('"myfirstmodule$order_number_mxseq"', %[2]d);
`, quote(modelVersion), rows)
}

// benchTable is one generated module table of a large sample.
func benchTableDDL(i int) string {
	return fmt.Sprintf(`CREATE TABLE "benchmodule$entity%02[1]d" (
	id bigint PRIMARY KEY,
	code varchar(40),
	description text,
	amount numeric(28,8),
	counter integer,
	flag boolean,
	happened timestamp,
	changeddate timestamp
);
CREATE INDEX "idx_benchmodule$entity%02[1]d_happened" ON "benchmodule$entity%02[1]d" (happened);
CREATE SEQUENCE "benchmodule$entity%02[1]d_counter_mxseq";
`, i)
}

func benchTableFill(i int, rows int64) string {
	return fmt.Sprintf(`INSERT INTO "benchmodule$entity%02[1]d"
  SELECT g, 'CODE-' || g, 'description of row ' || g || ' in a table of generated Mendix-shaped data',
         (g %% 100000000)::numeric / 7, (g %% 2147483647)::int, g %% 3 = 0,
         timestamp '2015-01-01' + g * interval '1 second', NULL
  FROM generate_series(1, %[2]d) g;
SELECT setval('"benchmodule$entity%02[1]d_counter_mxseq"', %[2]d);
`, i, rows)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
