CREATE TABLE "myfirstmodule$account" (
    id bigint NOT NULL PRIMARY KEY,
    email character varying(200),
    "myfirstmodule$account_profile" bigint,
    code character varying(20),
    region character varying(10) NOT NULL,
    CONSTRAINT "uniq_myfirstmodule$account_email" UNIQUE (email),
    CONSTRAINT "uniq_myfirstmodule$account_profile" UNIQUE NULLS NOT DISTINCT ("myfirstmodule$account_profile")
);
CREATE UNIQUE INDEX "idx_myfirstmodule$account_code" ON "myfirstmodule$account" (code);
CREATE UNIQUE INDEX "idx_myfirstmodule$account_code_region" ON "myfirstmodule$account" (code, region) NULLS NOT DISTINCT;
INSERT INTO "myfirstmodule$account"
SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'user' || g || '@example.com' END,
       CASE WHEN g = 7 THEN NULL ELSE g * 10 END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'C' || g END,
       CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END
FROM generate_series(1, 40) g
WHERE g % 4 <> 0 OR g = 4;
