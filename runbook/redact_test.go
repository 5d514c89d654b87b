package runbook

import (
	"slices"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"password in userinfo", "postgres://app:s3cret-pw@db:5432/app", "postgres://app:REDACTED@db:5432/app"},
		{"user without password kept", "postgres://app@db:5432/app?sslmode=require", "postgres://app@db:5432/app?sslmode=require"},
		{"password query parameter", "sqlserver://sa@sql:1433?database=app&password=hunter22", "sqlserver://sa@sql:1433?database=app&password=REDACTED"},
		{"azure sas signature", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=abc%2Fdef", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=REDACTED"},
		{"aws presigned", "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA&X-Amz-Signature=f00", "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
		{"order and escaping kept", "s3://b/p?endpoint=http%3A%2F%2Fminio:9000&secret_key=x", "s3://b/p?endpoint=http%3A%2F%2Fminio:9000&secret_key=REDACTED"},
		{"escaped sensitive name", "s3://b?Account%4Bey=x", "s3://b?Account%4Bey=REDACTED"},
		{"semicolon separated", "sqlserver://sql:1433?database=app;password=hunter22", "sqlserver://sql:1433?database=app;password=REDACTED"},
		{"nothing secret", "file:///srv/mendix/files", "file:///srv/mendix/files"},
		{"unparseable fails closed", "postgres://u:pa%zz@db/app", "<unparseable URL REDACTED>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url inside a sentence", "cannot connect to postgres://a:pw123456@h/db: timeout", "cannot connect to postgres://a:REDACTED@h/db: timeout"},
		{"connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc==;EndpointSuffix=x", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=REDACTED;EndpointSuffix=x"},
		{"dsn with quoted password", "host=db password='a b c' user=app", "host=db password=REDACTED user=app"},
		{"ado style", "Server=sql;User Id=sa;Password=Pa55word!;", "Server=sql;User Id=sa;Password=REDACTED;"},
		{"plain words untouched", "password authentication failed for user app", "password authentication failed for user app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactText(tt.in); got != tt.want {
				t.Errorf("RedactText(%q) =\n %q, want\n %q", tt.in, got, tt.want)
			}
		})
	}
}

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
