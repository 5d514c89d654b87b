package registry

import (
	"slices"
	"testing"
)

func TestRegisterLookupSchemes(t *testing.T) {
	var r Registry[string]
	r.Register("pg", "postgres", "PostgreSQL")
	r.Register("s3", "s3")

	for _, tc := range []struct {
		scheme string
		want   string
		found  bool
	}{
		{"postgres", "pg", true},
		{"POSTGRESQL", "pg", true},
		{"s3", "s3", true},
		{"mysql", "", false},
	} {
		got, ok := r.Lookup(tc.scheme)
		if got != tc.want || ok != tc.found {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.scheme, got, ok, tc.want, tc.found)
		}
	}
	if got, want := r.Schemes(), []string{"postgres", "postgresql", "s3"}; !slices.Equal(got, want) {
		t.Errorf("Schemes() = %v, want %v", got, want)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	var r Registry[int]
	r.Register(1, "file")
	defer func() {
		if recover() == nil {
			t.Fatal("registering a scheme twice did not panic")
		}
	}()
	r.Register(2, "FILE")
}
