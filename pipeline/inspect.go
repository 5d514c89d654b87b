package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// Inspection is what a backup holds, read from the backup alone.
type Inspection struct {
	Backup       string             `json:"backup"`
	Kind         snapshot.Kind      `json:"kind"`
	Metadata     *snapshot.Metadata `json:"metadata,omitempty"`
	Dump         *DumpFacts         `json:"dump,omitempty"`
	Tables       []TableFacts       `json:"tables"`
	TotalRows    int64              `json:"totalRows"`
	Sequences    []SequenceFacts    `json:"sequences"`
	Indexes      []string           `json:"indexes"`
	Constraints  []string           `json:"constraints"`
	Files        int                `json:"files"`
	FilesBytes   int64              `json:"filesBytes"`
	Anomalies    []snapshot.Anomaly `json:"anomalies"`
	AnomalyCount int                `json:"anomalyCount"`

	// source is the dump as a database target sees it, with row counts.
	source *dbcopy.Source
}

// DumpFacts describes the pg_dump archive.
type DumpFacts struct {
	ArchiveVersion  string    `json:"archiveVersion"`
	MinRestoreMajor int       `json:"minPgRestoreMajor"`
	Compression     string    `json:"compression"`
	Created         time.Time `json:"created"`
	Database        string    `json:"database"`
	ServerVersion   string    `json:"serverVersion"`
	DumpVersion     string    `json:"pgDumpVersion"`
	Size            int64     `json:"size"`
	Entries         int       `json:"tocEntries"`
	Fingerprint     string    `json:"fingerprint"`
}

// TableFacts is a table and its rows, counted from the dump's data.
type TableFacts struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// SequenceFacts is a sequence and the value the dump sets.
type SequenceFacts struct {
	Name     string `json:"name"`
	Value    int64  `json:"value"`
	IsCalled bool   `json:"isCalled"`
}

// Inspect reads the backup once, as a stream, and describes it.
func Inspect(ctx context.Context, path string) (*Inspection, error) {
	return inspect(ctx, path, nil)
}

// inspect is Inspect that also tells onBlob (when not nil) of every blob,
// without its bytes.
func inspect(ctx context.Context, path string, onBlob func(snapshot.Blob)) (*Inspection, error) {
	backup, err := snapshot.Open(path)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Backup: path, Kind: backup.Kind(), Tables: []TableFacts{}, Sequences: []SequenceFacts{}, Indexes: []string{}, Constraints: []string{}}
	var blob func(context.Context, snapshot.Blob, io.Reader) error
	if onBlob != nil {
		blob = func(_ context.Context, b snapshot.Blob, _ io.Reader) error { onBlob(b); return nil }
	}
	summary, err := backup.Walk(ctx, snapshot.Visitor{
		Blob: blob,
		Dump: func(ctx context.Context, r io.Reader, size int64) error {
			return withDumpInPlace(ctx, backup, func(at io.ReaderAt) error {
				a, byID, err := readArchive(ctx, r, at)
				if err != nil {
					return err
				}
				in.describe(a, byID, size)
				return nil
			})
		},
	})
	if summary != nil {
		in.Metadata = summary.Metadata
		in.Files = summary.Blobs
		in.FilesBytes = summary.BlobBytes
		in.Anomalies = summary.Anomalies
		in.AnomalyCount = summary.AnomalyCount
	}
	if in.Anomalies == nil {
		in.Anomalies = []snapshot.Anomaly{}
	}
	return in, err
}

func (in *Inspection) describe(a *pgdump.Archive, byID map[int]int64, size int64) {
	h := a.Header
	in.Dump = &DumpFacts{
		ArchiveVersion: h.Version(), MinRestoreMajor: h.MinRestoreMajor(), Compression: string(h.Compression),
		Created: h.Created, Database: h.DatabaseName, ServerVersion: h.ServerVersion, DumpVersion: h.DumpVersion,
		Size: size, Entries: len(a.Entries), Fingerprint: a.Fingerprint(),
	}
	src := describeDump(a, "")
	counts := rowsByTable(a, byID)
	in.source, _ = withCounts(src, counts)
	for _, t := range src.Tables {
		in.Tables = append(in.Tables, TableFacts{Name: t.Name, Rows: counts[t.Name]})
		in.TotalRows += counts[t.Name]
	}
	sort.Slice(in.Tables, func(i, j int) bool { return in.Tables[i].Name < in.Tables[j].Name })
	for _, s := range src.Sequences {
		in.Sequences = append(in.Sequences, SequenceFacts{Name: s.Name, Value: s.Value, IsCalled: s.IsCalled})
	}
	for _, ix := range src.Indexes {
		in.Indexes = append(in.Indexes, ix.Table+"."+ix.Name)
	}
	for _, c := range src.Constraints {
		in.Constraints = append(in.Constraints, c.Table+"."+c.Name)
	}
}

// WriteText prints the inspection for people. Every text the backup
// supplies is escaped: it must not write to the terminal on its own.
func (in *Inspection) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Backup     %s (%s)\n", escape.Text(in.Backup), in.Kind)
	if m := in.Metadata; m != nil {
		fmt.Fprintf(w, "Model      %s\n", escape.Text(m.ModelVersion))
		fmt.Fprintf(w, "Metadata   dump %d bytes, database %d bytes, files %d bytes", m.DumpSize, m.DatabaseSize, m.FilesSize)
		if len(m.Missing) > 0 {
			fmt.Fprintf(w, " (missing: %s)", escape.Text(strings.Join(m.Missing, ", ")))
		}
		fmt.Fprintln(w)
	}
	if d := in.Dump; d != nil {
		fmt.Fprintf(w, "Dump       archive %s (needs pg_restore %d or newer), %s compression, %d bytes\n", d.ArchiveVersion, d.MinRestoreMajor, d.Compression, d.Size)
		fmt.Fprintf(w, "           made %s by pg_dump %s from PostgreSQL %s, database %q\n", d.Created.Format("2006-01-02 15:04:05"), escape.Text(d.DumpVersion), escape.Text(d.ServerVersion), d.Database)
	}
	fmt.Fprintf(w, "Tables     %d, %d rows\n", len(in.Tables), in.TotalRows)
	width := 0
	for _, t := range in.Tables {
		width = max(width, len(escape.Text(t.Name)))
	}
	for _, t := range in.Tables {
		fmt.Fprintf(w, "  %-*s %12d\n", width, escape.Text(t.Name), t.Rows)
	}
	fmt.Fprintf(w, "Sequences  %d\n", len(in.Sequences))
	for _, s := range in.Sequences {
		fmt.Fprintf(w, "  %s = %d\n", escape.Text(s.Name), s.Value)
	}
	fmt.Fprintf(w, "Indexes    %d, constraints %d\n", len(in.Indexes), len(in.Constraints))
	fmt.Fprintf(w, "Files      %d, %d bytes\n", in.Files, in.FilesBytes)
	fmt.Fprintf(w, "Anomalies  %d\n", in.AnomalyCount)
	for _, a := range in.Anomalies {
		fmt.Fprintf(w, "  %s\n", a)
	}
}
