package dbcopy

import (
	"fmt"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// IfExists says what a load does with a target schema that holds objects
// it did not put there. The zero value is IfExistsFail.
type IfExists int

const (
	// IfExistsFail refuses the load (the default).
	IfExistsFail IfExists = iota
	// IfExistsDrop drops those objects first.
	IfExistsDrop
)

// ParseIfExists reads the --if-exists value: "fail" or "drop".
func ParseIfExists(s string) (IfExists, error) {
	switch s {
	case "fail":
		return IfExistsFail, nil
	case "drop":
		return IfExistsDrop, nil
	}
	return 0, exitcode.With(exitcode.BadInput, fmt.Errorf("--%s %q: use fail or drop", cliflag.IfExists, s))
}

// String is the flag's spelling of v.
func (v IfExists) String() string {
	switch v {
	case IfExistsFail:
		return "fail"
	case IfExistsDrop:
		return "drop"
	}
	return fmt.Sprintf("IfExists(%d)", int(v))
}

// valid reports whether v is one of the constants.
func (v IfExists) valid() bool { return v == IfExistsFail || v == IfExistsDrop }

// Set parses s into v: IfExists is a pflag.Value.
func (v *IfExists) Set(s string) error {
	p, err := ParseIfExists(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Type names the flag's value in usage text.
func (*IfExists) Type() string { return "fail|drop" }

// MarshalText writes v as the flag spells it (in reports and plans).
func (v IfExists) MarshalText() ([]byte, error) {
	if !v.valid() {
		return nil, fmt.Errorf("invalid IfExists %d", int(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText reads what MarshalText wrote.
func (v *IfExists) UnmarshalText(b []byte) error { return v.Set(string(b)) }
