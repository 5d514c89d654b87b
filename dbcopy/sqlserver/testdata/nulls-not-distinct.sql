-- tables
CREATE TABLE [dbo].[myfirstmodule$account] (
    [id] bigint NOT NULL,
    [email] nvarchar(200) NULL,
    [myfirstmodule$account_profile] bigint NULL,
    [code] nvarchar(20) NULL,
    [region] nvarchar(10) NOT NULL
);

-- data is copied here

-- keys and indexes
ALTER TABLE [dbo].[myfirstmodule$account] ADD CONSTRAINT [myfirstmodule$account_pkey] PRIMARY KEY CLUSTERED ([id]);
CREATE UNIQUE NONCLUSTERED INDEX [uniq_myfirstmodule$account_email] ON [dbo].[myfirstmodule$account] ([email]) WHERE [email] IS NOT NULL;
ALTER TABLE [dbo].[myfirstmodule$account] ADD CONSTRAINT [uniq_myfirstmodule$account_profile] UNIQUE NONCLUSTERED ([myfirstmodule$account_profile]);
CREATE UNIQUE NONCLUSTERED INDEX [idx_myfirstmodule$account_code] ON [dbo].[myfirstmodule$account] ([code] ASC) WHERE [code] IS NOT NULL;
CREATE UNIQUE NONCLUSTERED INDEX [idx_myfirstmodule$account_code_region] ON [dbo].[myfirstmodule$account] ([code] ASC, [region] ASC);

-- sequences

