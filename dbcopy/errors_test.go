package dbcopy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestSentinelsCarryTheirExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		sentinel error
		code     int
	}{
		{"lock held", LockHeld(errors.New("another migration holds the lock on db")), ErrLockHeld, exitcode.LockHeld},
		{"refused", PreflightRefused(errors.New("preflight refused: not empty")), ErrPreflightRefused, exitcode.PreflightRefused},
		// A code on the wrapped error does not win over the sentinel's.
		{"refused over bad input", PreflightRefused(exitcode.With(exitcode.BadInput, errors.New("x"))), ErrPreflightRefused, exitcode.PreflightRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("db stage: %w", tc.err)
			if !errors.Is(wrapped, tc.sentinel) {
				t.Errorf("errors.Is(%v, sentinel) = false", wrapped)
			}
			if got := exitcode.Of(wrapped); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
		})
	}
	if errors.Is(LockHeld(errors.New("x")), ErrPreflightRefused) {
		t.Error("a held lock is a refused preflight")
	}
	if LockHeld(nil) != nil || PreflightRefused(nil) != nil {
		t.Error("a nil error was marked")
	}
	if got := LockHeld(errors.New("held on db1")).Error(); got != "held on db1" {
		t.Errorf("message %q changed", got)
	}
}

func TestIfExists(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want IfExists
		ok   bool
	}{
		{"fail", IfExistsFail, true},
		{"drop", IfExistsDrop, true},
		{"", 0, false},
		{"truncate", 0, false},
		{"DROP", 0, false},
	} {
		got, err := ParseIfExists(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseIfExists(%q) = %v, %v", tc.in, got, err)
		}
		if !tc.ok && (exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "--if-exists")) {
			t.Errorf("ParseIfExists(%q): error %v should be bad input naming the flag", tc.in, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
	var zero IfExists
	if zero != IfExistsFail {
		t.Error("the zero value is not the default, fail")
	}
	b, err := json.Marshal(struct{ IfExists IfExists }{IfExistsDrop})
	if err != nil || string(b) != `{"IfExists":"drop"}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	var back struct{ IfExists IfExists }
	if err := json.Unmarshal(b, &back); err != nil || back.IfExists != IfExistsDrop {
		t.Errorf("JSON round trip: %v, %v", back.IfExists, err)
	}
	if err := (Options{IfExists: IfExists(7)}).Check(); exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("Check of an invalid IfExists = %v, want bad input", err)
	}
	if err := Unused("PostgreSQL", true, "type-map"); exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "--type-map") {
		t.Errorf("Unused = %v", err)
	}
	if err := Unused("PostgreSQL", false, "type-map"); err != nil {
		t.Errorf("Unused of an unset option = %v", err)
	}
}
