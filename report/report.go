// Package report is the outcome of a whole run (phases and their timings,
// uploads, prune, verification, backup anomalies) as JSON for scripts and as
// a summary for people.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/internal/units"
	"github.com/mxmigrate/mxmigrate/verify"
)

// Report is the outcome of a run: what was checked, what differed, and how
// long each phase took. It never holds credentials: targets appear as
// redacted URLs.
type Report struct {
	Tool       string              `json:"tool"`
	Version    string              `json:"version"`
	Command    string              `json:"command"`
	Backup     string              `json:"backup"`
	Database   string              `json:"databaseTarget,omitempty"` // redacted URL
	Files      string              `json:"fileStore,omitempty"`      // redacted URL
	StartedAt  time.Time           `json:"startedAt"`
	FinishedAt time.Time           `json:"finishedAt"`
	OK         bool                `json:"ok"`
	ExitCode   int                 `json:"exitCode"`
	Error      string              `json:"error,omitempty"`
	Phases     []Phase             `json:"phases"`
	DB         *verify.DBReport    `json:"database,omitempty"`
	Blobs      *verify.FilesReport `json:"files,omitempty"`
	Upload     *UploadReport       `json:"upload,omitempty"`
	Prune      *PruneReport        `json:"prune,omitempty"`
	Anomalies  []string            `json:"anomalies,omitempty"`
	// Warnings are what the preflight let through with a warning: what is
	// not carried over to the target, or carried over changed.
	Warnings []string `json:"warnings,omitempty"`

	// How the run signed in to each target: the kind of login, role or
	// cloud identity and its name, never a secret. Empty when the target
	// does not say (PostgreSQL, a folder).
	DatabaseIdentity string `json:"databaseIdentity,omitempty"`
	FilesIdentity    string `json:"fileStoreIdentity,omitempty"`

	phasesMu sync.Mutex // phases of a migration start from several goroutines
}

// Phase is one timed step of the run.
type Phase struct {
	Name     string  `json:"name"`
	Seconds  float64 `json:"seconds"`
	OK       bool    `json:"ok"`
	Detail   string  `json:"detail,omitempty"`
	started  time.Time
	finished bool
}

// UploadReport summarises the blob upload.
type UploadReport struct {
	Uploaded     int      `json:"uploaded"`
	Skipped      int      `json:"skipped"`
	Failed       int      `json:"failed"`
	Bytes        int64    `json:"bytes"`
	SkippedBytes int64    `json:"skippedBytes"`
	Seconds      float64  `json:"seconds"`
	Failures     []string `json:"failures,omitempty"`
	// The difference against the store: New blobs were not there,
	// Replaced and Refused were there with other content (put over with
	// --overwrite, else left and failed), Skipped were there already.
	New      int `json:"new"`
	Replaced int `json:"replaced"`
	Refused  int `json:"refused"`
	// StoreOnly counts the objects the store held under keys the backup
	// did not fill: files deleted in the app since an earlier backup, or
	// objects of something else; nil when the store's listing failed.
	StoreOnly *int `json:"storeOnly,omitempty"`
}

// PruneReport lists what --prune deleted: UUID-named objects under the
// prefix that the backup holds neither as a blob nor as a file document.
type PruneReport struct {
	Deleted      []string `json:"deleted,omitempty"` // the first MaxPruneListed keys
	DeletedCount int      `json:"deletedCount"`
	// Kept: objects the backup does not hold that prune left alone: not
	// UUID-named under the prefix, or named by a file document whose blob
	// the backup lacks (the best copy left).
	Kept     int      `json:"kept"`
	Failures []string `json:"failures,omitempty"`
}

// MaxPruneListed bounds the keys a PruneReport lists.
const MaxPruneListed = 1000

// StartPhase records the start of a named phase; call the returned func
// with the phase's error (nil for success) when it ends.
func (r *Report) StartPhase(name string) func(err error) {
	r.phasesMu.Lock()
	defer r.phasesMu.Unlock()
	r.Phases = append(r.Phases, Phase{Name: name, started: time.Now()})
	i := len(r.Phases) - 1
	return func(err error) {
		r.phasesMu.Lock()
		defer r.phasesMu.Unlock()
		p := &r.Phases[i]
		if p.finished {
			return
		}
		p.finished = true
		p.Seconds = time.Since(p.started).Seconds()
		p.OK = err == nil
		if err != nil {
			p.Detail = err.Error()
		}
	}
}

// Verified reports whether every check that ran passed.
func (r *Report) Verified() bool {
	if r.DB != nil && !r.DB.OK() {
		return false
	}
	if r.Blobs != nil && !r.Blobs.OK() {
		return false
	}
	if r.Upload != nil && r.Upload.Failed > 0 {
		return false
	}
	if r.Prune != nil && len(r.Prune.Failures) > 0 {
		return false
	}
	return true
}

// WriteJSON writes the report to path ("-" for stdout), atomically.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	tmp := path + ".partial"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// maxListed bounds how many differences of one kind a human summary shows.
const maxListed = 20

// WriteText writes the human summary.
func (r *Report) WriteText(w io.Writer) {
	status := "VERIFIED"
	if !r.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "\nmxmigrate %s: %s (exit %d)\n", r.Command, status, r.ExitCode)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", escape.Lines(r.Error, "    "))
	}
	if len(r.Phases) > 0 {
		fmt.Fprintln(w, "  phases:")
		for _, p := range r.Phases {
			mark := "ok"
			if !p.OK {
				mark = "FAILED"
			}
			fmt.Fprintf(w, "    %-22s %8.1fs  %s\n", p.Name, p.Seconds, mark)
		}
	}
	if r.DatabaseIdentity != "" {
		fmt.Fprintf(w, "  database signed in as %s\n", r.DatabaseIdentity)
	}
	if r.FilesIdentity != "" {
		fmt.Fprintf(w, "  file store signed in as %s\n", r.FilesIdentity)
	}
	if d := r.DB; d != nil {
		fmt.Fprintf(w, "  database %s: %d tables, %d rows", escape.Text(r.Database), len(d.Tables), d.TotalRows())
		if d.Checksums {
			fmt.Fprint(w, ", contents compared row by row")
		}
		fmt.Fprintln(w)
		for _, line := range d.Problems() {
			fmt.Fprintf(w, "    ! %s\n", escape.Text(line))
		}
	}
	if u := r.Upload; u != nil {
		fmt.Fprintf(w, "  upload: %d uploaded, %d skipped (already there), %d failed, %s in %.1fs (%s/s)\n",
			u.Uploaded, u.Skipped, u.Failed, units.Bytes(u.Bytes), u.Seconds, units.Bytes(int64(float64(u.Bytes)/max(u.Seconds, 0.001))))
		fmt.Fprintf(w, "  difference against the store: %d new, %d changed (%d replaced, %d refused), %d unchanged",
			u.New, u.Replaced+u.Refused, u.Replaced, u.Refused, u.Skipped)
		if u.StoreOnly != nil {
			fmt.Fprintf(w, ", %d in the store only", *u.StoreOnly)
		}
		fmt.Fprintln(w)
		for i, f := range u.Failures {
			if i == maxListed {
				fmt.Fprintf(w, "    ... and %d more\n", len(u.Failures)-maxListed)
				break
			}
			fmt.Fprintf(w, "    ! %s\n", escape.Text(f))
		}
	}
	if p := r.Prune; p != nil {
		fmt.Fprintf(w, "  prune: %d deleted, %d kept, %d failed\n", p.DeletedCount, p.Kept, len(p.Failures))
		for _, line := range verify.ListSome("deleted", p.Deleted) {
			fmt.Fprintf(w, "    - %s\n", escape.Text(line))
		}
		for _, line := range verify.ListSome("not deleted", p.Failures) {
			fmt.Fprintf(w, "    ! %s\n", escape.Text(line))
		}
	}
	if f := r.Blobs; f != nil {
		fmt.Fprintf(w, "  files %s: %d documents with contents, %d found of the right size\n", escape.Text(r.Files), f.Expected, f.Matched)
		for _, line := range f.Problems() {
			fmt.Fprintf(w, "    ! %s\n", escape.Text(line))
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(w, "  warnings (%d):\n", len(r.Warnings))
		for _, warning := range r.Warnings {
			fmt.Fprintf(w, "    - %s\n", warning)
		}
	}
	if len(r.Anomalies) > 0 {
		fmt.Fprintf(w, "  backup anomalies (%d):\n", len(r.Anomalies))
		for i, a := range r.Anomalies {
			if i == maxListed {
				fmt.Fprintf(w, "    ... and %d more\n", len(r.Anomalies)-maxListed)
				break
			}
			fmt.Fprintf(w, "    - %s\n", escape.Text(a))
		}
	}
}
