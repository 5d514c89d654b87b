-- tables
CREATE TABLE [app]]schema].[odd]]name$table] (
    [id] int NOT NULL DEFAULT (-1),
    [we]]ird] nvarchar(10) NULL DEFAULT (N'it''s'),
    [flag] bit NOT NULL DEFAULT (0),
    [created] datetime2(6) NULL,
    [counter] bigint NOT NULL,
    [amount] decimal(38,10) NULL,
    [body] nvarchar(max) NULL,
    [code] nvarchar(1000) NULL
);

-- data is copied here

-- keys and indexes
ALTER TABLE [app]]schema].[odd]]name$table] ADD CONSTRAINT [pk]]odd] PRIMARY KEY CLUSTERED ([id]);
CREATE NONCLUSTERED INDEX [idx_desc] ON [app]]schema].[odd]]name$table] ([created] DESC, [id] ASC) INCLUDE ([we]]ird]);
CREATE UNIQUE NONCLUSTERED INDEX [idx_unique_nullable] ON [app]]schema].[odd]]name$table] ([we]]ird] ASC, [flag] ASC) WHERE [we]]ird] IS NOT NULL;
CREATE NONCLUSTERED INDEX [idx_code] ON [app]]schema].[odd]]name$table] ([code] ASC);
ALTER TABLE [app]]schema].[odd]]name$table] ADD CONSTRAINT [fk_self] FOREIGN KEY ([counter]) REFERENCES [app]]schema].[odd]]name$table] ([id]);

-- sequences
CREATE SEQUENCE [app]]schema].[exhausted_seq] AS bigint START WITH 10 INCREMENT BY 1 MINVALUE 1 MAXVALUE 10 NO CYCLE;
CREATE SEQUENCE [app]]schema].[down_seq] AS bigint START WITH -9 INCREMENT BY -2 MINVALUE -100 MAXVALUE -1 CYCLE;

-- changed: table "odd]name$table" foreign key "fk_self": ON DELETE CASCADE becomes NO ACTION, as SQL Server refuses it: it references its own table (a cycle) (the Mendix runtime applies delete behaviour itself)
-- warning: sequence "exhausted_seq" is exhausted in the backup: it starts at its limit 10
-- warning: table "odd]name$table" column "counter": identity becomes a plain column (values are copied)
-- warning: table "odd]name$table" column "created": default now() not carried over (no SQL Server equivalent)
-- warning: table "odd]name$table" foreign key "fk_other" not created: it references schema "other", which is not migrated
-- warning: table "odd]name$table" index "idx_body": column "body" is nvarchar(max), which SQL Server cannot index; add a rule such as "odd]name$table.body": {"to": "nvarchar(450)"} (index not created)
-- warning: table "odd]name$table" index "idx_code": key may be 2000 bytes, over SQL Server's 1700; rows with longer values will fail
-- warning: table "odd]name$table" index "idx_partial" not created: partial index (CREATE INDEX idx_partial ON public.t USING btree (id) WHERE flag)
-- problem: type rule for column "odd]name$table.nosuch": no such column in the backup
-- problem: table "odd]name$table" unique constraint "uq_body": column "body" is nvarchar(max), which SQL Server cannot index; add a rule such as "odd]name$table.body": {"to": "nvarchar(450)"}
