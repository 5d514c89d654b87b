package sqlserver

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// mendixFKSchema is shaped like a recent Mendix app's foreign keys: every
// entity refers to system$user twice (system$owner, system$changedby,
// both SET NULL), an order's lines cascade from it, an employee refers to
// its manager (a self-reference) and four entities form a diamond of
// cascades.
func mendixFKSchema() *pgcatalog.Schema {
	entity := func(name string, refs ...pgcatalog.ForeignKey) *pgcatalog.Table {
		t := &pgcatalog.Table{Name: name, Columns: []pgcatalog.Column{col("id", pgBigint, true), col("system$owner", pgBigint, false), col("system$changedby", pgBigint, false)},
			PrimaryKey: pk(name, "id")}
		for _, c := range []string{"system$changedby", "system$owner"} {
			t.ForeignKeys = append(t.ForeignKeys, pgcatalog.ForeignKey{Name: name + "_" + c + "_fk", Columns: []string{c}, RefSchema: "public", RefTable: "system$user", RefColumns: []string{"id"}, OnDelete: "SET NULL", OnUpdate: "NO ACTION"})
		}
		for _, fk := range refs {
			t.Columns = append(t.Columns, col(fk.Columns[0], pgBigint, false))
			t.ForeignKeys = append(t.ForeignKeys, fk)
		}
		sort.Slice(t.ForeignKeys, func(i, j int) bool { return t.ForeignKeys[i].Name < t.ForeignKeys[j].Name })
		return t
	}
	ref := func(name, column, table, onDelete string) pgcatalog.ForeignKey {
		return pgcatalog.ForeignKey{Name: name, Columns: []string{column}, RefSchema: "public", RefTable: table, RefColumns: []string{"id"}, OnDelete: onDelete, OnUpdate: "NO ACTION"}
	}
	user := &pgcatalog.Table{Name: "system$user", Columns: []pgcatalog.Column{col("id", pgBigint, true), col("name", pgVarchar(100), false)}, PrimaryKey: pk("system$user", "id")}
	order := entity("mod$order")
	order.ForeignKeys[0].OnUpdate = "CASCADE" // the update graph is judged on its own
	return &pgcatalog.Schema{Name: "public", Tables: []*pgcatalog.Table{
		entity("mod$a"),
		entity("mod$b", ref("mod$b_a_fk", "mod$aid", "mod$a", "CASCADE")),
		entity("mod$c", ref("mod$c_a_fk", "mod$aid", "mod$a", "CASCADE")),
		entity("mod$d", ref("mod$d_b_fk", "mod$bid", "mod$b", "CASCADE"), ref("mod$d_c_fk", "mod$cid", "mod$c", "CASCADE")),
		entity("mod$employee", ref("mod$employee_manager_fk", "manager", "mod$employee", "SET NULL")),
		order,
		entity("mod$orderline", ref("mod$orderline_order_fk", "mod$orderid", "mod$order", "CASCADE")),
		entity("mod$shipment", ref("mod$shipment_x_fk", "otherid", "x", "RESTRICT")),
		user,
	}}
}

func TestForeignKeyActionsForSQLServer(t *testing.T) {
	schema := mendixFKSchema()
	decisions := fkActions(schema.Tables, nil)
	// Taken by name: a table's first reference to system$user (changedby)
	// is kept, its second (owner) would be a second path; mod$b, mod$c
	// and mod$d cascade from mod$a, which system$user reaches already, so
	// both their references to it are refused, as are the order lines';
	// the diamond's second edge into mod$d and the self-reference are
	// refused.
	wantRefused := []string{
		"mod$a.mod$a_system$owner_fk", "mod$b.mod$b_system$changedby_fk", "mod$b.mod$b_system$owner_fk",
		"mod$c.mod$c_system$changedby_fk", "mod$c.mod$c_system$owner_fk",
		"mod$d.mod$d_c_fk", "mod$d.mod$d_system$changedby_fk", "mod$d.mod$d_system$owner_fk",
		"mod$employee.mod$employee_manager_fk", "mod$employee.mod$employee_system$owner_fk",
		"mod$order.mod$order_system$owner_fk",
		"mod$orderline.mod$orderline_system$changedby_fk", "mod$orderline.mod$orderline_system$owner_fk",
		"mod$shipment.mod$shipment_system$owner_fk",
	}
	var refused []string
	for ref, d := range decisions {
		if len(d.Changes) > 0 {
			refused = append(refused, ref.Table+"."+ref.Name)
			if d.OnDelete != "NO ACTION" {
				t.Errorf("%s: changed but ON DELETE %s", ref.Name, d.OnDelete)
			}
		}
	}
	sort.Strings(refused)
	if !reflect.DeepEqual(refused, wantRefused) {
		t.Errorf("refused\n %q\nwant\n %q", refused, wantRefused)
	}
	for _, tc := range []struct{ table, fk, onDelete, onUpdate, why string }{
		{"mod$b", "mod$b_a_fk", "CASCADE", "NO ACTION", ""},
		{"mod$d", "mod$d_b_fk", "CASCADE", "NO ACTION", ""},
		{"mod$d", "mod$d_c_fk", "NO ACTION", "NO ACTION", `table "mod$d" would be reached by more than one cascade path`},
		{"mod$employee", "mod$employee_manager_fk", "NO ACTION", "NO ACTION", "references its own table"},
		{"mod$order", "mod$order_system$changedby_fk", "SET NULL", "CASCADE", ""},
		{"mod$orderline", "mod$orderline_order_fk", "CASCADE", "NO ACTION", ""},
		{"mod$shipment", "mod$shipment_x_fk", "RESTRICT", "NO ACTION", ""}, // not cascading: kept
	} {
		d := decisions[fkRef{tc.table, tc.fk}]
		if d.OnDelete != tc.onDelete || d.OnUpdate != tc.onUpdate {
			t.Errorf("%s: ON DELETE %s ON UPDATE %s, want %s %s", tc.fk, d.OnDelete, d.OnUpdate, tc.onDelete, tc.onUpdate)
		}
		if tc.why != "" && (len(d.Changes) != 1 || !strings.Contains(d.Changes[0], tc.why)) {
			t.Errorf("%s: changes %q, want one saying %q", tc.fk, d.Changes, tc.why)
		}
	}

	// The same schema in another order decides the same.
	reversed := append([]*pgcatalog.Table(nil), schema.Tables...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	if again := fkActions(reversed, nil); !reflect.DeepEqual(again, decisions) {
		t.Error("the decision depends on the order of the tables")
	}

	// The plan creates them so and lists every change.
	for i, tbl := range schema.Tables {
		if tbl.Name == "mod$shipment" {
			schema.Tables = append(schema.Tables[:i], schema.Tables[i+1:]...) // references a table not in the dump
			break
		}
	}
	p := newPlan("dbo", schema, typemap.New())
	if len(p.Problems) > 0 {
		t.Fatal(p.Problems)
	}
	if len(p.ActionChanges) != len(wantRefused)-1 {
		t.Errorf("%d changes listed, want %d: %q", len(p.ActionChanges), len(wantRefused)-1, p.ActionChanges)
	}
	script := p.Script()
	for _, want := range []string{
		"ALTER TABLE [dbo].[mod$d] ADD CONSTRAINT [mod$d_b_fk] FOREIGN KEY ([mod$bid]) REFERENCES [dbo].[mod$b] ([id]) ON DELETE CASCADE;",
		"ALTER TABLE [dbo].[mod$d] ADD CONSTRAINT [mod$d_c_fk] FOREIGN KEY ([mod$cid]) REFERENCES [dbo].[mod$c] ([id]);",
		"ALTER TABLE [dbo].[mod$order] ADD CONSTRAINT [mod$order_system$changedby_fk] FOREIGN KEY ([system$changedby]) REFERENCES [dbo].[system$user] ([id]) ON DELETE SET NULL ON UPDATE CASCADE;",
		`-- changed: table "mod$employee" foreign key "mod$employee_manager_fk": ON DELETE SET NULL becomes NO ACTION`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
}
