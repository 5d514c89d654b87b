package samplegen

// EveryTypeSchema is a Mendix-style table with every column type the
// verifier normalises, and the clauses pg_dump writes after a type (COLLATE,
// DEFAULT, CHECK, GENERATED). Tests of the archive reader and of content
// verification create it in a real database.
const EveryTypeSchema = `
CREATE TABLE "module$everytype" (
	id bigint PRIMARY KEY,
	"order" varchar(200) COLLATE "C" DEFAULT 'x, (y)' NOT NULL,
	"select" text,
	total numeric(28,8) DEFAULT 0.0,
	plain numeric,
	quantity integer CHECK (quantity >= 0),
	priority smallint,
	weight double precision,
	ratio real,
	paid boolean,
	signature bytea,
	orderdate timestamp,
	stamp3 timestamp(3),
	shipped timestamptz,
	birthday date,
	alarm time,
	alarmtz time with time zone,
	guid uuid,
	doc json,
	docb jsonb,
	tags integer[],
	"Mixed Case" character(3),
	"quote""d" int,
	twice bigint GENERATED ALWAYS AS (id * 2) STORED,
	CONSTRAINT "not 42, (total)" CHECK (total <> 42 AND "order" <> ')')
);
`
