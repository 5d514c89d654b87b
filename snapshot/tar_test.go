package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestWalkWellFormedFullSnapshot(t *testing.T) {
	tests := []struct {
		name      string
		path      func(t *testing.T) string
		dumpEntry string
		blobEntry string
	}{
		{"tar.gz", func(t *testing.T) string { return writeTarGz(t, wellFormed()) }, "db/db.backup", blobAPath},
		{"./-prefixed tar.gz", func(t *testing.T) string { return writeTarGz(t, withPrefix(wellFormed())) }, "./db/db.backup", "./" + blobAPath},
		{"plain tar", func(t *testing.T) string { return writePlainTar(t, wellFormed()) }, "db/db.backup", blobAPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openBackup(t, tt.path(t))
			if b.Kind() != KindFull {
				t.Fatalf("Kind = %q, want %q", b.Kind(), KindFull)
			}
			var rec recorder
			sum, err := b.Walk(context.Background(), rec.visitor())
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			if len(rec.metadata) != 1 || !metadataEqual(rec.metadata[0], mendixMetaParsed) {
				t.Errorf("Metadata callback got %+v, want once %+v", rec.metadata, mendixMetaParsed)
			}
			if !slices.Equal(rec.dumps, []string{fakeDump}) || !slices.Equal(rec.dumpSizes, []int64{int64(len(fakeDump))}) {
				t.Errorf("Dump callback got %q sizes %v, want %q once", rec.dumps, rec.dumpSizes, fakeDump)
			}
			wantBlobs := []gotBlob{
				{Blob{UUID: uuidA, Entry: tt.blobEntry, Size: int64(len(blobABody))}, blobABody},
				{Blob{UUID: uuidB, Entry: strings.Replace(tt.blobEntry, blobAPath, blobBPath, 1), Size: 0}, ""},
			}
			if !slices.Equal(rec.blobs, wantBlobs) {
				t.Errorf("blobs = %+v, want %+v", rec.blobs, wantBlobs)
			}
			if len(rec.anomalies) != 0 || sum.AnomalyCount != 0 {
				t.Errorf("anomalies = %v (count %d), want none", rec.anomalies, sum.AnomalyCount)
			}
			want := Summary{Kind: KindFull, Path: b.Path(), DumpEntry: tt.dumpEntry, DumpSize: int64(len(fakeDump)),
				HasDump: true, Blobs: 2, BlobBytes: int64(len(blobABody))}
			checkSummary(t, sum, want, &mendixMetaParsed)
		})
	}
}

// checkSummary compares everything but the anomaly list, which the
// anomaly tests check on their own.
func checkSummary(t *testing.T, got *Summary, want Summary, meta *Metadata) {
	t.Helper()
	if got == nil {
		t.Fatal("Summary is nil")
	}
	if (got.Metadata == nil) != (meta == nil) || (meta != nil && !metadataEqual(*got.Metadata, *meta)) {
		t.Errorf("Summary.Metadata = %+v, want %+v", got.Metadata, meta)
	}
	g := *got
	g.Metadata, g.Anomalies, g.AnomalyCount = nil, nil, 0
	if g.Kind != want.Kind || g.Path != want.Path || g.DumpEntry != want.DumpEntry || g.DumpSize != want.DumpSize ||
		g.HasDump != want.HasDump || g.Blobs != want.Blobs || g.BlobBytes != want.BlobBytes {
		t.Errorf("Summary = %+v, want %+v", g, want)
	}
}

func metadataEqual(a, b Metadata) bool {
	return a.ModelVersion == b.ModelVersion && a.DumpSize == b.DumpSize && a.DatabaseSize == b.DatabaseSize &&
		a.FilesSize == b.FilesSize && a.Duration == b.Duration && slices.Equal(a.Missing, b.Missing) &&
		len(a.Extra) == len(b.Extra) && func() bool {
		for k, v := range a.Extra {
			if bv, ok := b.Extra[k]; !ok || bv != v {
				return false
			}
		}
		return true
	}()
}

// Every odd entry is reported once, by name, and never reaches the Blob
// callback; the well-formed content around it still moves.
func TestWalkTarAnomalies(t *testing.T) {
	tests := []struct {
		name        string
		extra       tarItem
		wantEntry   string
		wantProblem string
	}{
		{"absolute path", file("/etc/passwd", "root"), "/etc/passwd", "absolute path; skipped"},
		{"absolute path into tree", file("/"+blobCPath, "x"), "/" + blobCPath, "absolute path; skipped"},
		{"dot-dot at the start", file("../../home/evil.sh", "x"), "../../home/evil.sh", `path contains ".."; skipped`},
		{"dot-dot inside tree", file("tree/../../evil", "x"), "tree/../../evil", `path contains ".."; skipped`},
		{"symlink in place of a blob", tarItem{name: blobCPath, typ: tar.TypeSymlink, link: "/etc/passwd"},
			blobCPath, `symbolic link to "/etc/passwd"; not followed`},
		{"hard link outside tree", tarItem{name: "notes.txt", typ: tar.TypeLink, link: blobAPath},
			"notes.txt", `hard link to "` + blobAPath + `"; skipped`},
		{"hard link escaping", tarItem{name: blobCPath, typ: tar.TypeLink, link: "../etc/passwd"},
			blobCPath, `hard link to "../etc/passwd"; skipped`},
		{"character device", tarItem{name: "tree/ff/ee/null", typ: tar.TypeChar}, "tree/ff/ee/null", "device file; skipped"},
		{"block device", tarItem{name: "sda", typ: tar.TypeBlock}, "sda", "device file; skipped"},
		{"fifo", tarItem{name: blobCPath, typ: tar.TypeFifo}, blobCPath, "named pipe (FIFO); skipped"},
		{"name not a uuid", file("tree/ab/cd/xyz", "x"), "tree/ab/cd/xyz", "name is not a UUID; not uploaded"},
		{"uuid missing a dash", file("tree/ff/ee/ffee00001111-4222-8333-4444555566667", "x"),
			"tree/ff/ee/ffee00001111-4222-8333-4444555566667", "name is not a UUID; not uploaded"},
		{"too shallow, not a uuid", file("tree/ff/x", "x"), "tree/ff/x", "not at tree/xx/yy/<uuid>; not uploaded"},
		{"tree as a file", file("tree", "x"), "tree", "unexpected entry, ignored"},
		{"duplicate blob", file(blobAPath, "a second copy"), blobAPath,
			"duplicate blob " + uuidA + "; only the first copy is used"},
		{"duplicate blob spelled in upper case", file("tree/0A/1B/"+strings.ToUpper(uuidA), "x"),
			"tree/0A/1B/" + strings.ToUpper(uuidA), "duplicate blob " + strings.ToUpper(uuidA)},
		{"unexpected top-level file", file("notes.txt", "hi"), "notes.txt", "unexpected entry, ignored"},
		{"unexpected top-level directory", dir("extra/"), "extra/", "unexpected directory, ignored"},
		{"unexpected file under db", file("db/other.sql", "x"), "db/other.sql", "unexpected entry, ignored"},
		{"second metadata", file(".metadata", `{"modelVersion":"9"}`), ".metadata", "second .metadata; only the first is used"},
		{"unsupported tar type", tarItem{name: "tree/ff/ee/cont", typ: tar.TypeCont}, "tree/ff/ee/cont", "unsupported entry type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openBackup(t, writeTarGz(t, append(wellFormed(), tt.extra)))
			var rec recorder
			sum, err := b.Walk(context.Background(), rec.visitor())
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			if len(rec.anomalies) != 1 {
				t.Fatalf("anomalies = %v, want exactly one", rec.anomalies)
			}
			a := rec.anomalies[0]
			if a.Entry != tt.wantEntry || !strings.Contains(a.Problem, tt.wantProblem) {
				t.Errorf("anomaly = %q, want entry %q with problem containing %q", a, tt.wantEntry, tt.wantProblem)
			}
			if !strings.HasPrefix(a.String(), tt.wantEntry+": ") {
				t.Errorf("Anomaly.String() = %q, want it to start with the entry", a.String())
			}
			if sum.AnomalyCount != 1 || !slices.Equal(sum.Anomalies, rec.anomalies) {
				t.Errorf("Summary anomalies = %v (count %d), want %v", sum.Anomalies, sum.AnomalyCount, rec.anomalies)
			}
			if got := rec.blobUUIDs(); !slices.Equal(got, []string{uuidA, uuidB}) {
				t.Errorf("blobs delivered = %v, want only %s and %s", got, uuidA, uuidB)
			}
			if rec.blobs[0].body != blobABody {
				t.Errorf("blob A body = %q, want the first copy %q", rec.blobs[0].body, blobABody)
			}
			if sum.Blobs != 2 || !slices.Equal(rec.dumps, []string{fakeDump}) {
				t.Errorf("Summary.Blobs = %d, dumps = %q; the good content must still move", sum.Blobs, rec.dumps)
			}
		})
	}
}

func TestAnomalyString(t *testing.T) {
	tests := []struct {
		in   Anomaly
		want string
	}{
		{Anomaly{"tree/ab/cd/xyz", "name is not a UUID; not uploaded"}, "tree/ab/cd/xyz: name is not a UUID; not uploaded"},
		{Anomaly{"evil\x1b[2Jname", "unexpected entry, ignored"}, `"evil\x1b[2Jname": unexpected entry, ignored`},
		{Anomaly{"line\nbreak", "p"}, `"line\nbreak": p`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestWalkTarMetadataProblems(t *testing.T) {
	tests := []struct {
		name        string
		items       []tarItem
		wantMeta    *Metadata
		wantProblem string
	}{
		{"unreadable metadata", append(without(wellFormed(), ".metadata"), file(".metadata", "{not json")), nil,
			"unreadable, continuing without it: metadata is not a JSON object"},
		{"non-numeric size", append(without(wellFormed(), ".metadata"), file(".metadata", `{"dumpSize":"lots"}`)), nil,
			`unreadable, continuing without it: metadata key "dumpSize": "lots" is not a whole number of bytes`},
		{"no metadata", without(wellFormed(), ".metadata"), nil, "missing;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			sum, err := openBackup(t, writeTarGz(t, tt.items)).Walk(context.Background(), rec.visitor())
			if err != nil {
				t.Fatalf("Walk: %v (bad metadata must not stop the walk)", err)
			}
			if sum.Metadata != nil || len(rec.metadata) != 0 {
				t.Errorf("Metadata = %+v, callback got %v; want none", sum.Metadata, rec.metadata)
			}
			if len(rec.anomalies) != 1 || rec.anomalies[0].Entry != ".metadata" ||
				!strings.Contains(rec.anomalies[0].Problem, tt.wantProblem) {
				t.Errorf("anomalies = %q, want one on .metadata containing %q", rec.anomalies, tt.wantProblem)
			}
			if !slices.Equal(rec.dumps, []string{fakeDump}) || len(rec.blobs) != 2 {
				t.Errorf("dump %q and %d blobs; the database and files must still move", rec.dumps, len(rec.blobs))
			}
		})
	}
}

// bigBlobBackup has an incompressible blob large enough that cutting or
// damaging the middle of the file lands inside it.
func bigBlobBackup() []tarItem {
	return append(wellFormed(), file(blobCPath, randomText(bigBlobSize)))
}

const bigBlobSize = 512 << 10

func randomText(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return string(data)
}

func TestWalkTarBrokenBackups(t *testing.T) {
	tests := []struct {
		name     string
		path     func(t *testing.T) string
		wantCode int
		want     []string
		wantIs   error
	}{
		{
			name: "duplicate dump",
			path: func(t *testing.T) string {
				return writeTarGz(t, append(wellFormed(), file("./db/db.backup", "PGDMP other")))
			},
			wantCode: exitcode.BadInput,
			want:     []string{`holds two database dumps ("db/db.backup" and "./db/db.backup")`, "ambiguous"},
		},
		{
			name:     "missing dump",
			path:     func(t *testing.T) string { return writeTarGz(t, without(wellFormed(), "db/db.backup")) },
			wantCode: exitcode.BadInput,
			want:     []string{"has no db/db.backup: is it a Mendix full-snapshot backup?"},
		},
		{
			name: "truncated gzip",
			path: func(t *testing.T) string {
				items := bigBlobBackup()
				data := gzipBytes(t, tarBytes(t, items))
				return writeFile(t, "cut.tar.gz", data[:len(data)/2])
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is truncated or corrupt", `in entry "` + blobCPath + `"`, "download it again"},
			wantIs:   io.ErrUnexpectedEOF,
		},
		{
			name: "corrupt gzip data (found by the checksum)",
			path: func(t *testing.T) string {
				items := bigBlobBackup()
				data := gzipBytes(t, tarBytes(t, items))
				for i := len(data) / 2; i < len(data)/2+16; i++ {
					data[i] ^= 0xff
				}
				return writeFile(t, "flipped.tar.gz", data)
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is truncated or corrupt", "download it again"},
			wantIs:   gzip.ErrChecksum,
		},
		{
			name: "corrupt gzip header",
			path: func(t *testing.T) string {
				data := gzipBytes(t, tarBytes(t, wellFormed()))
				data[2] = 0x07 // compression method: only 8 (deflate) exists
				return writeFile(t, "header.tar.gz", data)
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is truncated or corrupt (before the first entry)", "download it again"},
		},
		{
			name: "truncated plain tar",
			path: func(t *testing.T) string {
				items := bigBlobBackup()
				data := tarBytes(t, items)
				return writeFile(t, "cut.tar", data[:len(data)/2])
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is truncated or corrupt", `in entry "` + blobCPath + `"`, "download it again"},
			wantIs:   io.ErrUnexpectedEOF,
		},
		{
			name: "gzip that holds no tar",
			path: func(t *testing.T) string {
				return writeFile(t, "dump.sql.gz", gzipBytes(t, []byte(strings.Repeat("INSERT INTO t VALUES (1);\n", 100))))
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is compressed but holds no tar archive", "Mendix full-snapshot .tar.gz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			var rec recorder
			sum, err := openBackup(t, path).Walk(context.Background(), rec.visitor())
			wantErr(t, err, tt.wantCode, append(tt.want, path)...)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			if sum == nil {
				t.Error("Summary is nil; it must describe what was read before the error")
			}
		})
	}
}

// Some tools pad a compressed file; bytes after a verified gzip stream are
// reported and otherwise ignored.
func TestWalkTarTrailingData(t *testing.T) {
	data := append(gzipBytes(t, tarBytes(t, wellFormed())), make([]byte, 512)...)
	var rec recorder
	sum, err := openBackup(t, writeFile(t, "padded.tar.gz", data)).Walk(context.Background(), rec.visitor())
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	want := []Anomaly{{afterArchive, "data after the end of the compressed archive; ignored"}}
	if !slices.Equal(rec.anomalies, want) || sum.Blobs != 2 {
		t.Errorf("anomalies %q, %d blobs; want %q and 2", rec.anomalies, sum.Blobs, want)
	}
}

func TestWalkTarMissingDumpStillSummarises(t *testing.T) {
	sum, err := openBackup(t, writeTarGz(t, without(wellFormed(), "db/db.backup"))).Walk(context.Background(), Visitor{})
	wantErr(t, err, exitcode.BadInput, "has no db/db.backup")
	if sum == nil || sum.Blobs != 2 || sum.HasDump || sum.Metadata == nil {
		t.Errorf("Summary = %+v, want 2 blobs, metadata and no dump", sum)
	}
}

func TestWalkNilCallbacks(t *testing.T) {
	items := bigBlobBackup()
	for _, path := range []string{writeTarGz(t, items), writePlainTar(t, items)} {
		sum, err := openBackup(t, path).Walk(context.Background(), Visitor{})
		if err != nil {
			t.Fatalf("Walk(%s) with nil callbacks: %v", path, err)
		}
		want := Summary{Kind: KindFull, Path: path, DumpEntry: "db/db.backup", DumpSize: int64(len(fakeDump)),
			HasDump: true, Blobs: 3, BlobBytes: int64(len(blobABody)) + bigBlobSize}
		checkSummary(t, sum, want, &mendixMetaParsed)
	}
}

// A callback that reads only part of an entry leaves the rest to the walk,
// which must still line up on the next entry.
func TestWalkPartialRead(t *testing.T) {
	var bodies []string
	partial := Visitor{Blob: func(_ context.Context, b Blob, r io.Reader) error {
		buf := make([]byte, 3)
		n, _ := r.Read(buf)
		bodies = append(bodies, b.UUID+":"+string(buf[:n]))
		return nil
	}}
	sum, err := openBackup(t, writeTarGz(t, wellFormed())).Walk(context.Background(), partial)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	want := []string{uuidA + ":" + blobABody[:3], uuidB + ":"}
	if !slices.Equal(bodies, want) || sum.Blobs != 2 {
		t.Errorf("bodies = %q, blobs = %d; want %q and 2", bodies, sum.Blobs, want)
	}
}

func TestWalkAnomalyListIsBounded(t *testing.T) {
	items := wellFormed()
	const junk = MaxStoredAnomalies + 5
	for i := range junk {
		items = append(items, file("junk/"+strconv.Itoa(i), ""))
	}
	seen := 0
	sum, err := openBackup(t, writeTarGz(t, items)).Walk(context.Background(), Visitor{Anomaly: func(Anomaly) { seen++ }})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if seen != junk || sum.AnomalyCount != junk || len(sum.Anomalies) != MaxStoredAnomalies {
		t.Errorf("callback saw %d, AnomalyCount %d, stored %d; want %d, %d, %d",
			seen, sum.AnomalyCount, len(sum.Anomalies), junk, junk, MaxStoredAnomalies)
	}
}

func TestWalkRefusesZeroBackup(t *testing.T) {
	_, err := (&Backup{path: "x"}).Walk(context.Background(), Visitor{})
	if err == nil || !strings.Contains(err.Error(), "not opened with snapshot.Open") {
		t.Errorf("Walk on a zero Backup: err = %v", err)
	}
}
