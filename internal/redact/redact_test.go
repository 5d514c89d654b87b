package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"password in userinfo", "postgres://app:s3cret-pw@db:5432/app", "postgres://app:REDACTED@db:5432/app"},
		{"user without password kept", "postgres://app@db:5432/app?sslmode=require", "postgres://app@db:5432/app?sslmode=require"},
		{"sql server password parameter", "sqlserver://sa@sql:1433?database=app&password=hunter22", "sqlserver://sa@sql:1433?database=app&password=REDACTED"},
		{"sql server userinfo", "sqlserver://sa:Stand-in.Pass1@127.0.0.1:1433?database=master&packet+size=16384", "sqlserver://sa:REDACTED@127.0.0.1:1433?database=master&packet+size=16384"},
		{"sql server pwd parameter", "sqlserver://sql?database=app&user+id=sa&pwd=hunter22", "sqlserver://sql?database=app&user+id=sa&pwd=REDACTED"},
		{"azure sas signature", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=abc%2Fdef", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=REDACTED"},
		{"aws presigned", "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA&X-Amz-Signature=f00&X-Amz-Security-Token=t0k", "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"},
		{"order and escaping kept", "s3://b/p?endpoint=http%3A%2F%2Fminio:9000&secret_key=x", "s3://b/p?endpoint=http%3A%2F%2Fminio:9000&secret_key=REDACTED"},
		{"escaped sensitive name", "s3://b?Account%4Bey=x", "s3://b?Account%4Bey=REDACTED"},
		{"semicolon separated", "sqlserver://sql:1433?database=app;password=hunter22", "sqlserver://sql:1433?database=app;password=REDACTED"},
		{"nothing secret", "file:///srv/mendix/files", "file:///srv/mendix/files"},
		{"unparseable keeps its endpoint", "postgres://u:pa%zz@db:5432/app", "postgres://u:REDACTED@db:5432/app"},
		{"unparseable query", "sqlserver://sa@sql%zz:1433?database=app&password=hunter22", "sqlserver://sa@sql%zz:1433?database=app&password=REDACTED"},
		{"unparseable sas", "https://acct.blob.core.windows.net/c%zz?sv=1&sig=abc", "https://acct.blob.core.windows.net/c%zz?sv=1&sig=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) =\n %q, want\n %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url inside a sentence", "cannot connect to postgres://a:pw123456@h/db: timeout", "cannot connect to postgres://a:REDACTED@h/db: timeout"},
		{"azure connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc==;EndpointSuffix=x", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=REDACTED;EndpointSuffix=x"},
		{"sas connection string", "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=abc", "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=REDACTED&sig=REDACTED"},
		{"dsn with quoted password", "host=db password='a b c' user=app", "host=db password=REDACTED user=app"},
		{"ado style", "Server=sql;User Id=sa;Password=Pa55word!;", "Server=sql;User Id=sa;Password=REDACTED;"},
		{"odbc pwd", "Driver={ODBC};Server=sql;Uid=sa;Pwd=Pa55word!;", "Driver={ODBC};Server=sql;Uid=sa;Pwd=REDACTED;"},
		{"aws secret", "AWS_ACCESS_KEY_ID=AKIAXX AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_ACCESS_KEY_ID=REDACTED AWS_SECRET_ACCESS_KEY=REDACTED"},
		{"aws config file", "aws_secret_access_key = wJalrXUtnFEMI", "aws_secret_access_key = REDACTED"},
		{"password quoted in json", `invalid config {"user":"sa","password":"hunter\"22"}`, `invalid config {"user":"sa","password":"REDACTED"}`},
		{"plain words untouched", "password authentication failed for user app", "password authentication failed for user app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) =\n %q, want\n %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"replaced everywhere", "FATAL: password hunter22 rejected (hunter22)", []string{"hunter22"}, "FATAL: password REDACTED rejected (REDACTED)"},
		{"too short to tell from text", "a b c", []string{"b"}, "a b c"},
		{"no secrets", "ok", nil, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Known(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("Known = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecretsFindsWhatTextHides(t *testing.T) {
	text := "postgres://app:pg-secret-1@db/app s3://b?secret_key=s3-secret-2 Password=ado-secret-3; " +
		"postgres://u:raw-secret-4@db%zz/x"
	got := Secrets(text)
	for _, want := range []string{"pg-secret-1", "s3-secret-2", "ado-secret-3", "raw-secret-4"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets missed %q (found %q)", want, got)
		}
		if strings.Contains(Text(text), want) {
			t.Errorf("Text left %q in place", want)
		}
	}
}
