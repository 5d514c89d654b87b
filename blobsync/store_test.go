package blobsync

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Of(b []byte) []byte {
	sum := md5.Sum(b)
	return sum[:]
}

// withSmallParts makes every store split blobs over 5 MiB into 5 MiB parts
// (S3's minimum) and 1 MiB blocks, so multipart paths run with small blobs.
func withSmallParts(t *testing.T) {
	oldThreshold, oldPart := s3MultipartThreshold, s3PartSize
	oldSingle, oldBlock := azureSingleUploadMax, azureBlockSize
	s3MultipartThreshold, s3PartSize = 5<<20, 5<<20
	azureSingleUploadMax, azureBlockSize = 5<<20, 1<<20
	t.Cleanup(func() {
		s3MultipartThreshold, s3PartSize = oldThreshold, oldPart
		azureSingleUploadMax, azureBlockSize = oldSingle, oldBlock
	})
}

func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func listAll(t *testing.T, s Store) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := s.List(t.Context(), func(info ObjectInfo) error {
		got[info.Key] = info.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func TestStores(t *testing.T) {
	withSmallParts(t)
	forEachStore(t, func(t *testing.T, fx storeFixture) {
		t.Run("PutStatOpen", func(t *testing.T) { testPutStatOpen(t, fx) })
		t.Run("PutReplaces", func(t *testing.T) { testPutReplaces(t, fx) })
		t.Run("Missing", func(t *testing.T) { testMissingObject(t, fx) })
		t.Run("ListUnderPrefix", func(t *testing.T) { testListUnderPrefix(t, fx) })
		t.Run("ListStopsOnCallbackError", func(t *testing.T) { testListStops(t, fx) })
		t.Run("Delete", func(t *testing.T) { testDelete(t, fx) })
		t.Run("PutRejectsWrongMD5", func(t *testing.T) { testPutRejectsWrongMD5(t, fx) })
		t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, fx) })
		t.Run("Closed", func(t *testing.T) { testClosed(t, fx) })
		t.Run("MissingLocation", func(t *testing.T) { testMissingLocation(t, fx) })
		t.Run("BadCredentials", func(t *testing.T) { testBadCredentials(t, fx) })
	})
}

func testPutStatOpen(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t)+"/app")
	tests := []struct {
		name string
		size int
	}{
		{"zero bytes", 0},
		{"one byte", 1},
		{"small", 1000},
		{"over one part", 11 << 20}, // 3 S3 parts, 11 Azure blocks
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := randomBytes(uint64(i), tt.size)
			key := "k" + strings.ReplaceAll(tt.name, " ", "-")
			put, err := s.Put(t.Context(), key, BytesPayload(data))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if put.Key != key || put.Size != int64(tt.size) {
				t.Errorf("Put = {%q, %d}, want {%q, %d}", put.Key, put.Size, key, tt.size)
			}
			// A single request is confirmed by the store's answer; parts
			// are not, except by the file store, which wrote them itself.
			confirmed := tt.size <= 5<<20 || fx.putConfirmsParts
			switch {
			case put.MD5 != nil && !bytes.Equal(put.MD5, md5Of(data)):
				t.Errorf("Put confirms MD5 %x, want %x", put.MD5, md5Of(data))
			case confirmed && put.MD5 == nil:
				t.Errorf("Put confirms no MD5; want %x from the store's answer", md5Of(data))
			case !confirmed && put.MD5 != nil:
				t.Errorf("Put confirms MD5 %x that no answer of the store vouches for; want nil", put.MD5)
			}
			info, err := s.Stat(t.Context(), key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Key != key || info.Size != int64(tt.size) {
				t.Errorf("Stat = {%q, %d}, want {%q, %d}", info.Key, info.Size, key, tt.size)
			}
			switch {
			case fx.statKnowsMD5 && !bytes.Equal(info.MD5, md5Of(data)):
				t.Errorf("Stat MD5 = %x, want %x", info.MD5, md5Of(data))
			case !fx.statKnowsMD5 && info.MD5 != nil:
				t.Errorf("Stat MD5 = %x, want nil (this store does not record it)", info.MD5)
			}
			if got := readAll(t, s, key); !bytes.Equal(got, data) {
				t.Errorf("Open returned %d bytes (md5 %x), want %d (md5 %x)", len(got), md5Of(got), len(data), md5Of(data))
			}
		})
	}
}

func testPutReplaces(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	for _, content := range []string{"first version", "second"} {
		if _, err := s.Put(t.Context(), "doc", BytesPayload([]byte(content))); err != nil {
			t.Fatalf("Put %q: %v", content, err)
		}
	}
	if got := readAll(t, s, "doc"); string(got) != "second" {
		t.Fatalf("after two Puts the object holds %q, want %q", got, "second")
	}
	info, err := s.Stat(t.Context(), "doc")
	if err != nil || info.Size != int64(len("second")) {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len("second"))
	}
	if got := listAll(t, s); len(got) != 1 {
		t.Fatalf("List = %v, want exactly one object", got)
	}
}

func testMissingObject(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	if _, err := s.Stat(t.Context(), "absent"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Stat(absent) error = %v, want ErrNotExist", err)
	}
	if rc, err := s.Open(t.Context(), "absent"); !errors.Is(err, ErrNotExist) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open(absent) error = %v, want ErrNotExist", err)
	}
	if err := s.Delete(t.Context(), "absent"); err != nil {
		t.Errorf("Delete(absent) = %v, want nil", err)
	}
	if _, err := s.Stat(t.Context(), "absent"); err != nil && Retryable(err) {
		t.Errorf("a missing object must not be retried: %v", err)
	}
}

func testListUnderPrefix(t *testing.T, fx storeFixture) {
	base := fx.freshURL(t)
	app := openStore(t, base+"/app")
	other := openStore(t, base+"/other")
	want := map[string]int64{"a": 1, "b": 22, "dir/c": 333}
	for key, size := range want {
		if _, err := app.Put(t.Context(), key, BytesPayload(make([]byte, size))); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	if _, err := other.Put(t.Context(), "outside", BytesPayload([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	got := listAll(t, app)
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for key, size := range want {
		if got[key] != size {
			t.Errorf("List[%q] = %d, want %d (all: %v)", key, got[key], size, got)
		}
	}
}

func testListStops(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	for _, key := range []string{"a", "b", "c"} {
		if _, err := s.Put(t.Context(), key, BytesPayload([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := s.List(t.Context(), func(ObjectInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("List = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testDelete(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	for _, key := range []string{"keep", "drop"} {
		if _, err := s.Put(t.Context(), key, BytesPayload([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // idempotent
		if err := s.Delete(t.Context(), "drop"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if _, err := s.Stat(t.Context(), "drop"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Stat after Delete = %v, want ErrNotExist", err)
	}
	if got := listAll(t, s); !slices.Equal(keysOf(got), []string{"keep"}) {
		t.Errorf("List after Delete = %v, want only keep", got)
	}
}

func keysOf(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lyingPayload claims an MD5 its bytes do not have, as corruption in
// transit would look to the server.
type lyingPayload struct{ Payload }

func (lyingPayload) MD5() []byte { return md5Of([]byte("something else")) }

func testPutRejectsWrongMD5(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	tests := []struct {
		name string
		size int
	}{
		{"single request", 100},
		{"multipart", 6 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Put(t.Context(), "bad", lyingPayload{BytesPayload(randomBytes(7, tt.size))})
			if err == nil {
				t.Fatal("Put accepted bytes that do not match the payload's MD5")
			}
			t.Logf("error: %v", err)
			if _, err := s.Stat(t.Context(), "bad"); !errors.Is(err, ErrNotExist) {
				t.Errorf("after a rejected Put, Stat = %v, want ErrNotExist", err)
			}
		})
	}
}

func testInvalidKeys(t *testing.T, fx storeFixture) {
	s := openStore(t, fx.freshURL(t))
	for _, key := range []string{"", "/abs", "a/../b", "a//b", "..", `a\b`} {
		_, err := s.Stat(t.Context(), key)
		if exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("Stat(%q) = %v, want a bad-input error", key, err)
		}
		if _, err := s.Put(t.Context(), key, BytesPayload(nil)); exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("Put(%q) = %v, want a bad-input error", key, err)
		}
	}
}

func testClosed(t *testing.T, fx storeFixture) {
	s, err := Open(t.Context(), fx.freshURL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := s.Put(t.Context(), "k", BytesPayload([]byte("x"))); err == nil {
		t.Error("Put after Close succeeded")
	}
	if err := s.List(t.Context(), func(ObjectInfo) error { return nil }); err == nil {
		t.Error("List after Close succeeded")
	}
}

func testMissingLocation(t *testing.T, fx storeFixture) {
	rawURL, location := fx.missingURL(t)
	_, err := Open(t.Context(), rawURL, Options{})
	if err == nil {
		t.Fatalf("Open(%s) of a missing location succeeded", rawURL)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrNotExist) || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), location) {
		t.Fatalf("Open(%s) = %v; want a bad-input ErrNotExist naming %q", rawURL, err, location)
	}
	s, err := Open(t.Context(), rawURL, Options{Create: true})
	if err != nil {
		t.Fatalf("Open with Create: %v", err)
	}
	defer s.Close()
	if _, err := s.Put(t.Context(), "k", BytesPayload([]byte("x"))); err != nil {
		t.Fatalf("Put into the created location: %v", err)
	}
	// Creating again is harmless.
	again, err := Open(t.Context(), rawURL, Options{Create: true})
	if err != nil {
		t.Fatalf("second Open with Create: %v", err)
	}
	again.Close()
}

func testBadCredentials(t *testing.T, fx storeFixture) {
	if fx.badCredentials == nil {
		t.Skip("this store has no credentials")
	}
	rawURL, secret := fx.badCredentials(t)
	_, err := Open(t.Context(), rawURL, Options{})
	if err == nil {
		t.Fatal("Open with wrong credentials succeeded")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if !errors.Is(err, ErrAccessDenied) || exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("error %q: want a bad-input ErrAccessDenied", msg)
	}
	location := strings.TrimPrefix(strings.TrimPrefix(rawURL, "s3://"), "azblob://")
	if !strings.Contains(msg, location) {
		t.Errorf("error %q does not name the store %q", msg, location)
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error %q contains the secret", msg)
	}
	if Retryable(err) {
		t.Errorf("bad credentials must not be retried: %v", err)
	}
}
