package blobsync

import (
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestParseStoreURL(t *testing.T) {
	tests := []struct {
		raw, wantScheme, wantHost, wantPath string
	}{
		{"/var/blobs", "file", "", "/var/blobs"},
		{"relative/dir", "file", "", "relative/dir"},
		{`C:\blobs`, "file", "", `C:\blobs`},
		{"file:///var/blobs", "file", "", "/var/blobs"},
		{"S3://bucket/app", "s3", "bucket", "/app"},
		{"azblob://container/app", "azblob", "container", "/app"},
	}
	for _, tt := range tests {
		u, err := parseStoreURL(tt.raw)
		if err != nil {
			t.Errorf("parseStoreURL(%q): %v", tt.raw, err)
			continue
		}
		if u.Scheme != tt.wantScheme || u.Host != tt.wantHost || u.Path != tt.wantPath {
			t.Errorf("parseStoreURL(%q) = %s %q %q, want %s %q %q", tt.raw, u.Scheme, u.Host, u.Path, tt.wantScheme, tt.wantHost, tt.wantPath)
		}
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	const secret = "SeCrEtSiGnAtUrE"
	tests := []struct {
		name, raw, want string
	}{
		{"empty", "", "empty store URL"},
		{"unknown scheme", "ftp://host/dir", `unsupported store scheme "ftp"`},
		{"unparsable with a SAS", "https://acct.blob.core.windows.net:x/c?sig=" + secret, "invalid store URL"},
		{"s3 without bucket", "s3:///prefix", "missing bucket"},
		{"s3 unknown parameter", "s3://bucket?regoin=eu-west-1", `unknown query parameter "regoin"`},
		{"s3 bad path-style", "s3://bucket?path-style=maybe", "not a boolean"},
		{"file on a remote host", "file://server/share", "remote host"},
		{"https but not a blob endpoint", "https://example.com/c?sig=" + secret, "not an Azure Blob endpoint"},
		{"emulator URL without container", "http://127.0.0.1:10000/devstoreaccount1", "ACCOUNT/CONTAINER"},
		{"azblob with a query", "azblob://c?sig=" + secret, "only identity= and client-id= are accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(t.Context(), tt.raw, Options{})
			if err == nil {
				t.Fatalf("Open(%q) succeeded", tt.raw)
			}
			if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) = %v; want a bad-input error mentioning %q", tt.raw, err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the SAS signature", err)
			}
		})
	}
}

func TestFolderPrefix(t *testing.T) {
	tests := map[string]string{"": "", "/": "", "/app": "app/", "/app/": "app/", "/a/b": "a/b/"}
	for in, want := range tests {
		if got := folderPrefix(in); got != want {
			t.Errorf("folderPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegisterAddsScheme(t *testing.T) {
	for _, scheme := range []string{"file", "s3", "azblob", "https", "http"} {
		if !strings.Contains(" "+strings.Join(Schemes(), " ")+" ", " "+scheme+" ") {
			t.Errorf("scheme %q is not registered (have %v)", scheme, Schemes())
		}
	}
}
