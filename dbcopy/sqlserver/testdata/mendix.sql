-- tables
CREATE TABLE [dbo].[mendixsystem$entity] (
    [id] uniqueidentifier NOT NULL,
    [entity_name] nvarchar(255) NOT NULL,
    [table_name] nvarchar(255) NOT NULL,
    [superentity_id] uniqueidentifier NULL
);

CREATE TABLE [dbo].[mendixsystem$version] (
    [versionnumber] nvarchar(30) NOT NULL,
    [lastsyncdate] datetime2(6) NULL,
    [modelversion] nvarchar(200) NULL
);

CREATE TABLE [dbo].[myfirstmodule$order] (
    [id] bigint NOT NULL,
    [number] bigint NULL,
    [order] nvarchar(200) NULL,
    [select] nvarchar(max) NULL,
    [total] decimal(28,8) NULL,
    [quantity] int NULL,
    [priority] smallint NULL,
    [weight] float NULL,
    [paid] bit NULL,
    [notes] nvarchar(max) NULL,
    [signature] varbinary(max) NULL,
    [orderdate] datetime2(6) NULL,
    [shipped] datetimeoffset(6) NULL,
    [createddate] datetime2(6) NULL,
    [changeddate] datetime2(6) NULL
);

CREATE TABLE [dbo].[myfirstmodule$order_customer] (
    [myfirstmodule$orderid] bigint NOT NULL,
    [myfirstmodule$customerid] bigint NOT NULL
);

CREATE TABLE [dbo].[system$filedocument] (
    [id] bigint NOT NULL,
    [__uuid__] nvarchar(36) NULL,
    [__filename__] bigint NULL,
    [name] nvarchar(400) NULL,
    [deleteafterdownload] bit NULL,
    [hascontents] bit NULL,
    [size] bigint NULL,
    [submetaobjectname] nvarchar(255) NULL,
    [createddate] datetime2(6) NULL,
    [changeddate] datetime2(6) NULL,
    [system$owner] bigint NULL,
    [system$changedby] bigint NULL
);

CREATE TABLE [dbo].[system$user] (
    [id] bigint NOT NULL,
    [name] nvarchar(100) NULL,
    [password] nvarchar(100) NULL,
    [lastlogin] datetime2(6) NULL,
    [blocked] bit NULL,
    [active] bit NULL
);

-- data is copied here

-- keys and indexes
ALTER TABLE [dbo].[mendixsystem$entity] ADD CONSTRAINT [mendixsystem$entity_pkey] PRIMARY KEY CLUSTERED ([id]);
ALTER TABLE [dbo].[myfirstmodule$order] ADD CONSTRAINT [myfirstmodule$order_pkey] PRIMARY KEY CLUSTERED ([id]);
ALTER TABLE [dbo].[myfirstmodule$order_customer] ADD CONSTRAINT [myfirstmodule$order_customer_pkey] PRIMARY KEY CLUSTERED ([myfirstmodule$orderid], [myfirstmodule$customerid]);
ALTER TABLE [dbo].[system$filedocument] ADD CONSTRAINT [system$filedocument_pkey] PRIMARY KEY CLUSTERED ([id]);
ALTER TABLE [dbo].[system$user] ADD CONSTRAINT [system$user_pkey] PRIMARY KEY CLUSTERED ([id]);
CREATE UNIQUE NONCLUSTERED INDEX [uniq_myfirstmodule$order_number] ON [dbo].[myfirstmodule$order] ([number]) WHERE [number] IS NOT NULL;
CREATE UNIQUE NONCLUSTERED INDEX [idx_mendixsystem$entity_entity_name] ON [dbo].[mendixsystem$entity] ([entity_name] ASC);
CREATE NONCLUSTERED INDEX [idx_myfirstmodule$order_createddate] ON [dbo].[myfirstmodule$order] ([createddate] ASC);
CREATE NONCLUSTERED INDEX [idx_myfirstmodule$order_customer_customer] ON [dbo].[myfirstmodule$order_customer] ([myfirstmodule$customerid] ASC, [myfirstmodule$orderid] ASC);
CREATE NONCLUSTERED INDEX [idx_system$filedocument_submetaobjectname] ON [dbo].[system$filedocument] ([submetaobjectname] ASC, [id] ASC);
CREATE UNIQUE NONCLUSTERED INDEX [idx_system$user_name] ON [dbo].[system$user] ([name] ASC) WHERE [name] IS NOT NULL;

-- sequences
CREATE SEQUENCE [dbo].[myfirstmodule$order_number_mxseq] AS bigint START WITH 1001 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE;
CREATE SEQUENCE [dbo].[system$filedocument_fileid_mxseq] AS bigint START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE;

