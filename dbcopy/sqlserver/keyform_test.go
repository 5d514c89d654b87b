package sqlserver

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

func TestFormProblem(t *testing.T) {
	filtered := step{Kind: "unique index", Unique: true, Filter: "[a] IS NOT NULL AND [b] IS NOT NULL"}
	nndConstraint := step{Kind: "unique", Unique: true}
	nndIndex := step{Kind: "index", Unique: true}
	plain := step{Kind: "index"}
	tests := []struct {
		name string
		step step
		form indexForm
		want string // a part of the problem, "" for none
	}{
		{"filtered as made", filtered, indexForm{unique: true, filter: "([a] IS NOT NULL AND [b] IS NOT NULL)"}, ""},
		{"filtered, terms in another order", filtered, indexForm{unique: true, filter: "(([b] IS NOT NULL) AND ([a] IS NOT NULL))"}, ""},
		{"filter not reported", filtered, indexForm{unique: true}, ""},
		{"filtered on one column only", filtered, indexForm{unique: true, filter: "([a] IS NOT NULL)"}, "want WHERE [a] IS NOT NULL AND [b] IS NOT NULL"},
		{"filtered key as a constraint", filtered, indexForm{unique: true, uniqueConstraint: true}, "is a constraint"},
		{"filtered key not unique", filtered, indexForm{filter: "([a] IS NOT NULL AND [b] IS NOT NULL)"}, "is not unique"},
		{"NULLS NOT DISTINCT constraint as made", nndConstraint, indexForm{unique: true, uniqueConstraint: true}, ""},
		{"NULLS NOT DISTINCT constraint as a filtered index", nndConstraint, indexForm{unique: true, filter: "([a] IS NOT NULL)"}, "is not a UNIQUE constraint"},
		{"NULLS NOT DISTINCT index as made", nndIndex, indexForm{unique: true}, ""},
		{"NULLS NOT DISTINCT index filtered", nndIndex, indexForm{unique: true, filter: "([a] IS NOT NULL)"}, "where the dump's key is NULLS NOT DISTINCT"},
		{"plain index", plain, indexForm{}, ""},
		{"plain index made unique", plain, indexForm{unique: true}, "is unique"},
		{"primary key", step{Kind: "primary key", Unique: true}, indexForm{unique: true, primaryKey: true}, ""},
		{"primary key as a unique constraint", step{Kind: "primary key", Unique: true}, indexForm{unique: true, uniqueConstraint: true}, "is not a primary key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := formProblem(tc.step, tc.form)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNullsNotDistinctIntoSQLServer loads the pg_dump 15 archive with
// both kinds of unique keys over nullable columns, compares every value,
// checks the DDL (the stand-in takes many NULLs even in a plain unique
// constraint, so the load passing proves nothing), and that Inventory
// leaves out a key put back in the other kind's form.
func TestNullsNotDistinctIntoSQLServer(t *testing.T) {
	serverURL := sqlServerURL(t)
	db := openDB(t, serverURL)
	cluster := testenv.Postgres(t)
	sourceURL := testenv.NewDatabase(t, cluster)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dump := filepath.Join("testdata", "nulls-not-distinct.backup")
	if out, err := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "pg_restore"), "--no-owner", "-d", sourceURL, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, out)
	}
	schema := testSchemaName("mxnnd")
	t.Cleanup(func() { dropTestSchema(t, db, schema) })
	opts := dbcopy.Options{Schema: schema, AllowConnected: true, Log: slog.New(slog.DiscardHandler)}
	tg := open(t, ctx, serverURL, opts)
	unlock, err := tg.Lock(ctx, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	src := sourceOf(t, ctx, sourceURL, dump, "nulls-not-distinct")
	if _, err := tg.Preflight(ctx, src); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	if err := tg.Load(ctx, src); err != nil {
		t.Fatalf("load: %v", err)
	}
	compareWithSource(t, ctx, tg, sourceURL)

	const table = "myfirstmodule$account"
	type index struct {
		unique, constraint, filtered bool
		filter                       string
	}
	want := map[string]index{
		"uniq_myfirstmodule$account_email":      {true, false, true, "[email] IS NOT NULL"},
		"uniq_myfirstmodule$account_profile":    {true, true, false, ""},
		"idx_myfirstmodule$account_code":        {true, false, true, "[code] IS NOT NULL"},
		"idx_myfirstmodule$account_code_region": {true, false, false, ""},
	}
	babelfish := isBabelfish(t, db)
	for name, w := range want {
		var g index
		err := db.QueryRowContext(ctx, `SELECT is_unique, is_unique_constraint, has_filter, ISNULL(filter_definition, N'') FROM sys.indexes WHERE object_id = OBJECT_ID(@p1) AND name = @p2`,
			qualified(schema, table), name).Scan(&g.unique, &g.constraint, &g.filtered, &g.filter)
		if err != nil {
			t.Errorf("index %s: %v", name, err)
			continue
		}
		if babelfish {
			// The stand-in's sys.indexes reports no filters; its
			// PostgreSQL catalog has them.
			g.filtered, g.filter = standInIndexFilter(t, ctx, db, schema, name)
		}
		g.filter = strings.Trim(g.filter, "()")
		if g != w {
			t.Errorf("index %s: got %+v, want %+v", name, g, w)
		}
	}

	// Each kind put back in the other's form is left out of the inventory.
	for _, stmt := range []string{
		fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT [uniq_myfirstmodule$account_profile]", qualified(schema, table)),
		fmt.Sprintf("CREATE UNIQUE NONCLUSTERED INDEX [uniq_myfirstmodule$account_profile] ON %s ([myfirstmodule$account_profile]) WHERE [myfirstmodule$account_profile] IS NOT NULL", qualified(schema, table)),
		fmt.Sprintf("DROP INDEX [idx_myfirstmodule$account_code] ON %s", qualified(schema, table)),
		fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT [idx_myfirstmodule$account_code] UNIQUE ([code])", qualified(schema, table)),
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	inv, err := tg.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, present := range map[string]bool{
		table + ".uniq_myfirstmodule$account_profile":    false,
		table + ".idx_myfirstmodule$account_code":        false,
		table + ".uniq_myfirstmodule$account_email":      true,
		table + ".idx_myfirstmodule$account_code_region": true,
	} {
		if got := inv.Constraints[key] || inv.Indexes[key]; got != present {
			t.Errorf("inventory has %s: %v, want %v", key, got, present)
		}
	}
}
