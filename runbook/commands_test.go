package runbook

import (
	"slices"
	"testing"
)

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"backups/b.tar.gz", "backups/b.tar.gz"},
		{"", "''"},
		{"my backup.tar.gz", "'my backup.tar.gz'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"a;b", "'a;b'"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCommandRendering(t *testing.T) {
	cmd := command{lit("migrate"), lit("b.tar.gz"), lit("--db"), envRef("MXMIGRATE_DB"),
		lit("--files"), envRef("OTHER_FILES"), lit("--prefix"), lit("a$(b)")}
	if got, want := cmd.shell(), `mxmigrate migrate b.tar.gz --db "$MXMIGRATE_DB" --files "$OTHER_FILES" --prefix 'a$(b)'`; got != want {
		t.Errorf("shell() = %s\nwant      %s", got, want)
	}
	// --db is left to the environment; another variable is expanded by the
	// kubelet; a literal $ is escaped so the kubelet leaves it alone.
	want := []string{"migrate", "b.tar.gz", "--files", "$(OTHER_FILES)", "--prefix", "a$$(b)"}
	if got := cmd.container(); !slices.Equal(got, want) {
		t.Errorf("container() = %q, want %q", got, want)
	}
}

func TestWorkDirFlag(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"", nil},
		{".mxmigrate", nil},
		{"/scratch", []string{"--work-dir", "/scratch"}},
	}
	for _, tt := range tests {
		if got := workDir(tt.dir).container(); !slices.Equal(got, tt.want) {
			t.Errorf("workDir(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

func TestCommandsAgreeOnKeyLayout(t *testing.T) {
	p := postgresS3Plan()
	p.Options.Suffix = ".x"
	for name, c := range map[string]command{
		"plan":    planCommand(p, "b", ""),
		"migrate": migrateCommand(p, "b", ""),
		"verify":  verifyCommand(p, "b", "", ""),
	} {
		args := c.container()
		for _, want := range [][2]string{{"--prefix", "mx/"}, {"--suffix", ".x"}} {
			i := slices.Index(args, want[0])
			if i < 0 || i+1 >= len(args) || args[i+1] != want[1] {
				t.Errorf("%s: args %q lack %s %s", name, args, want[0], want[1])
			}
		}
	}
}
