package runbook

import (
	"slices"
	"strings"
	"testing"
)

func TestSecretValuesFindsEveryPlantedSecret(t *testing.T) {
	var found []string
	for _, f := range fixtures {
		found = append(found, secretValues(f.plan())...)
	}
	for _, s := range fakeSecrets {
		if !slices.Contains(found, s) {
			t.Errorf("secretValues missed %q (found %q)", s, found)
		}
	}
}

func TestErrIfLeaks(t *testing.T) {
	secrets := []string{"FAKE-PG-PASSWORD-7f3a", "a b+c/d=e?"}
	tests := []struct {
		name string
		out  string
		leak bool
	}{
		{"clean", "postgres://mendix:REDACTED@db/app", false},
		{"plain leak", "postgres://mendix:FAKE-PG-PASSWORD-7f3a@db/app", true},
		{"query-escaped leak", "s3://b?token=a+b%2Bc%2Fd%3De%3F", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := errIfLeaks("x", []byte(tt.out), secrets)
			if (err != nil) != tt.leak {
				t.Fatalf("errIfLeaks = %v, want leak=%v", err, tt.leak)
			}
			if err != nil && strings.Contains(err.Error(), "FAKE") {
				t.Errorf("the error itself names the secret: %v", err)
			}
		})
	}
}

// TestOutputsRefuseToLeak proves the last line of defence works: with
// redaction bypassed (a secret in a field printed as is), rendering fails.
func TestOutputsRefuseToLeak(t *testing.T) {
	p := postgresS3Plan()
	p.TargetModelVersion = "FAKE-PG-PASSWORD-7f3a" // printed verbatim, as a careless caller could cause
	if _, err := Markdown(p); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("Markdown: err = %v, want a refusal", err)
	}
	p = postgresS3Plan()
	p.Backup.Name = "FAKE-PG-PASSWORD-7f3a.tar.gz"
	if _, err := KubernetesManifests(p, K8sOptions{AppName: "app"}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("KubernetesManifests: err = %v, want a refusal", err)
	}
}
