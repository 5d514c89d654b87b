package sqlserver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/typemap"
)

func TestParseCollation(t *testing.T) {
	tests := []struct {
		name                string
		ci, ai, ki, wi, bin bool
	}{
		{"SQL_Latin1_General_CP1_CI_AS", true, false, true, true, false},
		{"Latin1_General_100_CI_AI_SC_UTF8", true, true, true, true, false},
		{"Latin1_General_CS_AS_KS_WS", false, false, false, false, false},
		{"Latin1_General_BIN2", false, false, false, false, true},
		{"Japanese_XJIS_140_CI_AS_KS", true, false, false, true, false},
	}
	for _, tc := range tests {
		c := parseCollation(tc.name)
		if c.caseInsensitive != tc.ci || c.accentInsensitive != tc.ai || c.kanaInsensitive != tc.ki || c.widthInsensitive != tc.wi || c.binary != tc.bin {
			t.Errorf("%s: got %+v", tc.name, c)
		}
	}
}

func TestCollationKey(t *testing.T) {
	tests := []struct {
		collation string
		a, b      string
		equal     bool
	}{
		{"SQL_Latin1_General_CP1_CI_AS", "Bob", "bob", true},
		{"SQL_Latin1_General_CP1_CI_AS", "bob", "bob  ", true},
		{"SQL_Latin1_General_CP1_CI_AS", "bob", " bob", false},
		{"SQL_Latin1_General_CP1_CI_AS", "émile", "emile", false},
		{"SQL_Latin1_General_CP1_CI_AS", "ÉMILE", "émile", true},
		{"SQL_Latin1_General_CP1_CI_AS", "Ａ", "a", true},
		{"SQL_Latin1_General_CP1_CI_AS", "カ", "か", true},
		{"Latin1_General_100_CI_AI", "Émile", "emile", true},
		{"Latin1_General_100_CI_AI", "Ångström", "angstrom", true},
		{"Latin1_General_100_CS_AS", "Bob", "bob", false},
		{"Latin1_General_100_CS_AS", "bob ", "bob", true},
		{"Latin1_General_100_CS_AS_KS_WS", "Ａ", "A", false},
		{"Latin1_General_BIN2", "Bob", "bob", false},
		{"Latin1_General_BIN2", "\u00e9", "e\u0301", false}, // precomposed vs combining
		{"Latin1_General_BIN2", "x ", "x", true},
		{"SQL_Latin1_General_CP1_CI_AS", "😀", "😀 ", true},
		{"SQL_Latin1_General_CP1_CI_AS", "\u00e9", "e\u0301", true},
		{"SQL_Latin1_General_CP1_CI_AS", "a\tb", "a b", false},
	}
	for _, tc := range tests {
		c := parseCollation(tc.collation)
		if got := c.key(tc.a) == c.key(tc.b); got != tc.equal {
			t.Errorf("%s: %q vs %q: equal %v, want %v", tc.collation, tc.a, tc.b, got, tc.equal)
		}
	}
}

func s(v string) *string { return &v }

func TestFindCollisions(t *testing.T) {
	ci := parseCollation("SQL_Latin1_General_CP1_CI_AS")
	name := keyCheck{Table: "system$user", Kind: "unique index", Name: "idx_system$user_name", Columns: []string{"name"}, Text: []bool{true}}
	pair := keyCheck{Table: "t", Kind: "unique constraint", Name: "uq", Columns: []string{"code", "n"}, Text: []bool{true, false}, NullsEqual: true}
	tests := []struct {
		name  string
		check keyCheck
		rows  [][]*string
		want  [][]string
	}{
		{"case", name, [][]*string{{s("Bob")}, {s("alice")}, {s("bob")}, {s("BOB ")}},
			[][]string{{`("BOB ")`, `("Bob")`, `("bob")`}}},
		{"none", name, [][]*string{{s("a")}, {s("b")}, {s("é")}, {s("e")}}, nil},
		{"filtered index ignores NULLs", name, [][]*string{{nil}, {nil}}, nil},
		{"NULLS NOT DISTINCT: NULLs collide", pair, [][]*string{{nil, s("1")}, {nil, s("1")}, {nil, s("2")}},
			[][]string{{`(NULL, "1")`, `(NULL, "1")`}}},
		{"non-text column compared exactly", pair, [][]*string{{s("A"), s("1")}, {s("a"), s("2")}, {s("a"), s("1")}},
			[][]string{{`("A", "1")`, `("a", "1")`}}},
		{"two groups in first-seen order", name, [][]*string{{s("x")}, {s("Y")}, {s("X")}, {s("y")}},
			[][]string{{`("X")`, `("x")`}, {`("Y")`, `("y")`}}},
	}
	for _, tc := range tests {
		got := findCollisions(ci, tc.check, tc.rows)
		var values [][]string
		for _, g := range got {
			if g.Check.Name != tc.check.Name {
				t.Errorf("%s: collision of %q", tc.name, g.Check.Name)
			}
			values = append(values, g.Values)
		}
		if !reflect.DeepEqual(values, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, values, tc.want)
		}
	}
}

func TestRepeated(t *testing.T) {
	got := repeated([]uint64{5, 1, 3, 5, 1, 1, 9})
	if want := map[uint64]bool{1: true, 5: true}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := repeated(nil); len(got) != 0 {
		t.Errorf("got %v for no hashes", got)
	}
}

func TestKeyChecks(t *testing.T) {
	p := newPlan("dbo", mendixSchema(), typemap.New())
	var got []string
	for _, k := range keyChecks(p) {
		got = append(got, k.Table+" "+k.Kind+" "+k.Name+" "+strings.Join(k.Columns, ","))
	}
	// Primary keys on bigint ids cannot collide, nor can the unique
	// constraint on a nullable bigint (its NULLs are left out of the
	// filtered index that stands for it); the text unique indexes can.
	want := []string{
		"mendixsystem$entity unique index idx_mendixsystem$entity_entity_name entity_name",
		"system$user unique index idx_system$user_name name",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// A key the plan does not create is not checked.
	schema := mendixSchema()
	schema.Table("system$user").Indexes[0].NotConvertible = "partial index"
	for _, k := range keyChecks(newPlan("dbo", schema, typemap.New())) {
		if k.Name == "idx_system$user_name" {
			t.Error("a skipped index was checked")
		}
	}
}

func TestDescribeCollisions(t *testing.T) {
	k := keyCheck{Table: "system$user", Kind: "unique index", Name: "idx_name"}
	var found []collision
	for i := 0; i < maxCollisionGroups+2; i++ {
		found = append(found, collision{Check: k, Values: []string{`("A")`, `("a")`, `("a ")`, `("A ")`, `("Ａ")`, `("ａ")`, `("ａ ")`}})
	}
	got := describeCollisions(parseCollation("SQL_Latin1_General_CP1_CI_AS"), found)
	for _, want := range []string{
		"collation SQL_Latin1_General_CP1_CI_AS would make these keys collide",
		`table "system$user" unique index "idx_name": ("A") = ("a") = ("a ") = ("A ") = ("Ａ") (+2 more)`,
		"... and 2 more",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("description lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "table \""); n != maxCollisionGroups {
		t.Errorf("%d groups shown, want %d", n, maxCollisionGroups)
	}
}
