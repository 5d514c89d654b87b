package snapshot

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

var errUpload = errors.New("upload refused")

// sources are the backup shapes that hold metadata, a dump and blobs.
var sources = []struct {
	name string
	path func(t *testing.T) string
}{
	{"tar.gz", func(t *testing.T) string { return writeTarGz(t, wellFormed()) }},
	{"plain tar", func(t *testing.T) string { return writePlainTar(t, wellFormed()) }},
	{"folder", func(t *testing.T) string { return wellFormedFolder(t) }},
}

func TestWalkStopsOnCallbackError(t *testing.T) {
	tests := []struct {
		name      string
		visitor   func(rec *recorder) Visitor
		wantEntry string
		wantDumps int
		wantBlobs int // Blob callback calls
	}{
		{
			name: "metadata",
			visitor: func(rec *recorder) Visitor {
				v := rec.visitor()
				v.Metadata = func(Metadata) error { return errUpload }
				return v
			},
			wantEntry: ".metadata",
		},
		{
			name: "dump",
			visitor: func(rec *recorder) Visitor {
				v := rec.visitor()
				v.Dump = func(context.Context, io.Reader, int64) error {
					rec.dumps = append(rec.dumps, "called")
					return errUpload
				}
				return v
			},
			wantEntry: "db/db.backup",
			wantDumps: 1,
		},
		{
			name: "first blob",
			visitor: func(rec *recorder) Visitor {
				v := rec.visitor()
				v.Blob = func(_ context.Context, b Blob, _ io.Reader) error {
					rec.blobs = append(rec.blobs, gotBlob{Blob: b})
					return errUpload
				}
				return v
			},
			wantEntry: blobAPath,
			wantDumps: 1,
			wantBlobs: 1,
		},
	}
	for _, src := range sources {
		for _, tt := range tests {
			t.Run(src.name+"/"+tt.name, func(t *testing.T) {
				var rec recorder
				_, err := openBackup(t, src.path(t)).Walk(context.Background(), tt.visitor(&rec))
				wantErr(t, err, exitcode.Failure, tt.wantEntry+": upload refused")
				if !errors.Is(err, errUpload) {
					t.Errorf("error %v does not wrap the callback's error", err)
				}
				if len(rec.dumps) != tt.wantDumps || len(rec.blobs) != tt.wantBlobs {
					t.Errorf("after the error: %d dumps, %d blobs delivered; want %d, %d (the walk must stop)",
						len(rec.dumps), len(rec.blobs), tt.wantDumps, tt.wantBlobs)
				}
			})
		}
	}
}

func TestWalkCancellation(t *testing.T) {
	type stage int
	const (
		before stage = iota
		inDump
		inBlob
	)
	tests := []struct {
		name      string
		stage     stage
		wantWhere string
		wantBlobs int
	}{
		{"cancelled before the walk", before, "", 0},
		{"cancelled while reading the dump", inDump, `stopped in entry "db/db.backup"`, 0},
		{"cancelled inside the first blob", inBlob, "", 1},
	}
	for _, src := range sources {
		for _, tt := range tests {
			t.Run(src.name+"/"+tt.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var rec recorder
				v := rec.visitor()
				v.Dump = func(ctx context.Context, r io.Reader, _ int64) error {
					if tt.stage == inDump {
						cancel()
					}
					_, err := io.ReadAll(r)
					return err
				}
				v.Blob = func(_ context.Context, b Blob, _ io.Reader) error {
					rec.blobs = append(rec.blobs, gotBlob{Blob: b})
					if tt.stage == inBlob {
						cancel()
					}
					return nil
				}
				if tt.stage == before {
					cancel()
				}
				_, err := openBackup(t, src.path(t)).Walk(ctx, v)
				wantErr(t, err, exitcode.Interrupted, tt.wantWhere)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v does not wrap context.Canceled", err)
				}
				if len(rec.blobs) != tt.wantBlobs {
					t.Errorf("%d blobs delivered, want %d: the walk must stop at the cancellation", len(rec.blobs), tt.wantBlobs)
				}
				if tt.stage == before && len(rec.metadata) != 0 {
					t.Errorf("metadata delivered after cancellation: %v", rec.metadata)
				}
			})
		}
	}
}

func TestWalkBareCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := Visitor{Dump: func(ctx context.Context, r io.Reader, _ int64) error {
		cancel()
		_, err := io.ReadAll(r)
		return err
	}}
	_, err := openBackup(t, writeFile(t, "app.backup", []byte(fakeDump))).Walk(ctx, v)
	wantErr(t, err, exitcode.Interrupted, `stopped in entry "app.backup"`)
}

func TestEntryReader(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		size    int64
		want    string
		wantErr string
		wantIs  error
	}{
		{name: "exact", data: "hello", size: 5, want: "hello"},
		{name: "empty", data: "", size: 0, want: ""},
		{name: "shorter than recorded", data: "hello", size: 8, want: "hello",
			wantErr: "entry ended after 5 of its 8 bytes", wantIs: io.ErrUnexpectedEOF},
		{name: "longer than recorded", data: "hello", size: 3, want: "hel",
			wantErr: "entry is longer than its recorded 3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			er := newEntryReader(context.Background(), strings.NewReader(tt.data), tt.size)
			got, err := io.ReadAll(er)
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
			if tt.wantErr == "" {
				if err != nil || er.err != nil {
					t.Errorf("err = %v, recorded %v; want none", err, er.err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || er.err != err {
				t.Errorf("err = %v, recorded %v; want %q recorded", err, er.err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}
