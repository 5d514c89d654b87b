package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/microsoft/go-mssqldb"
)

// The SQL Server comparison: `mxmigrate db` straight from the dump
// against the staging path it replaced (restore into a local PostgreSQL,
// read it back, bulk copy), side by side into the same server. It runs
// when BENCH_MSSQL_DSN or MSSQL_TEST_DSN names a server
// (sqlserver://USER:PASS@HOST:PORT?database=master...); the login must
// create databases. BENCH_ONLY=sqlserver runs it alone.

// stagingCommit is the last commit whose SQL Server target still went
// through a staging PostgreSQL (`git log --oneline -- dbcopy/sqlserver`:
// the next one, 0a5526d, removed staging.go and --staging).
// BENCH_STAGING_COMMIT picks another.
const stagingCommit = "cf5d6fc"

const directName = "mxmigrate db --jobs 2 (direct from the dump)"

func stagingName(commit string) string {
	return "mxmigrate db --jobs 2 at " + commit + " (staging PostgreSQL)"
}

func sqlServerDSN() string {
	if dsn := os.Getenv("BENCH_MSSQL_DSN"); dsn != "" {
		return dsn
	}
	return os.Getenv("MSSQL_TEST_DSN")
}

// sqlServerGroups is the SQL Server comparison, or none without a server.
func (b *bench) sqlServerGroups() []groupSpec {
	dsn := sqlServerDSN()
	if dsn == "" {
		b.log.Info("no BENCH_MSSQL_DSN or MSSQL_TEST_DSN: the SQL Server comparison is left out")
		return nil
	}
	commit := stagingCommit
	if c := os.Getenv("BENCH_STAGING_COMMIT"); c != "" {
		commit = c
	}
	ms := &mssqlBench{b: b, dsn: dsn, commit: commit}
	g := groupSpec{
		name:  "sqlserver",
		title: "Database to SQL Server: straight from the dump against the staging PostgreSQL it replaced",
		speed: []speedClaim{{baseline: stagingName(commit), minSpeedup: 2,
			text: "`mxmigrate db` into SQL Server at least 2x faster than the staging path it replaces (same server, same run)"}},
		memory: &memoryClaim{maxMiB: 200, text: "`mxmigrate db` into SQL Server peak memory under 200 MiB"},
	}
	g.contenders = append(g.contenders, contender{
		name: directName, mxmigrate: true,
		command: "MXMIGRATE_DB=sqlserver://…?database=EMPTY mxmigrate db BACKUP --jobs " + restoreJobs,
		prepare: func(ctx context.Context) (*trial, error) { return ms.trial(ctx, b.mx, directName) },
	})
	g.contenders = append(g.contenders, contender{
		name:    stagingName(commit),
		command: "MXMIGRATE_DB=sqlserver://…?database=EMPTY mxmigrate@" + commit + " db BACKUP --jobs " + restoreJobs + " (built from git; --staging local: its own PostgreSQL under --work-dir)",
		prepare: func(ctx context.Context) (*trial, error) {
			bin, err := ms.stagingBinary(ctx)
			if err != nil {
				return nil, err
			}
			return ms.trial(ctx, bin, stagingName(commit))
		},
	})
	return []groupSpec{g}
}

type mssqlBench struct {
	b      *bench
	dsn    string
	commit string

	once   sync.Once
	bin    string
	binErr error
}

// stagingBinary builds the staging version from git, once, into the
// scratch folder: git archive of the commit, then go build.
func (m *mssqlBench) stagingBinary(ctx context.Context) (string, error) {
	m.once.Do(func() {
		src := filepath.Join(m.b.scratchDir, "staging-src")
		if err := os.MkdirAll(src, 0o755); err != nil {
			m.binErr = err
			return
		}
		m.b.log.Info("building the staging version (untimed)", "commit", m.commit)
		archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "archive", m.b.root, m.commit, src)
		if out, err := archive.CombinedOutput(); err != nil {
			m.binErr = fmt.Errorf("git archive %s: %v: %s", m.commit, err, tailLines(string(out), 5))
			return
		}
		bin := filepath.Join(m.b.scratchDir, "mxmigrate-"+m.commit)
		if err := runQuiet(ctx, src, 15*time.Minute, "go", "build", "-o", bin, "./cmd/mxmigrate"); err != nil {
			m.binErr = fmt.Errorf("build %s: %w", m.commit, err)
			return
		}
		m.bin = bin
	})
	return m.bin, m.binErr
}

// trial loads the backup with bin into a fresh database, checks the rows
// and adds the split between copy and keys (from the log) to the phases.
func (m *mssqlBench) trial(ctx context.Context, bin, name string) (*trial, error) {
	admin, err := sql.Open("sqlserver", m.dsn)
	if err != nil {
		return nil, errors.New("BENCH_MSSQL_DSN / MSSQL_TEST_DSN: not a SQL Server URL")
	}
	m.b.seq++
	db := fmt.Sprintf("mxbench_%d_%d", os.Getpid(), m.b.seq)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database %s: %w", db, err)
	}
	drop := func(ctx context.Context) {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+db); err != nil {
			m.b.log.Warn("could not drop a benchmark database", "db", db, "err", err)
		}
		admin.Close()
	}
	// A short folder outside the scratch area: the staging version puts
	// its PostgreSQL's Unix socket under --work-dir, and a socket path may
	// not be longer than 107 bytes.
	work, err := os.MkdirTemp("", "mxb-")
	if err != nil {
		drop(ctx)
		return nil, err
	}
	target, err := withDatabase(m.dsn, db)
	if err != nil {
		drop(ctx)
		return nil, err
	}
	st, report := m.b.mxStep(name, work, "db", m.b.backup, "--jobs", restoreJobs, "--log-format", "json")
	st.argv[0] = bin
	// The URL holds the password: in the environment, never in the
	// command line the results show.
	st.env = append(st.env, "MXMIGRATE_DB="+target)
	check := func(ctx context.Context) error {
		n, err := sqlServerRows(ctx, target)
		if err != nil {
			return err
		}
		if n != m.b.dataset.Rows {
			return fmt.Errorf("database %s holds %d rows, the backup %d", db, n, m.b.dataset.Rows)
		}
		return addLogPhases(report, m.b.latestLog(name))
	}
	return &trial{steps: []step{st}, report: report, check: check,
		cleanup: func(ctx context.Context, ok bool) { drop(ctx); os.RemoveAll(work) }}, nil
}

// withDatabase is dsn with its database replaced.
func withDatabase(dsn, db string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("BENCH_MSSQL_DSN / MSSQL_TEST_DSN: not a valid URL")
	}
	q := u.Query()
	q.Set("database", db)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// sqlServerRows counts the rows of every table of the dbo schema.
func sqlServerRows(ctx context.Context, dsn string) (int64, error) {
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT QUOTENAME(name) FROM sys.tables WHERE schema_id = SCHEMA_ID(N'dbo')`)
	if err != nil {
		return 0, fmt.Errorf("list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	var total int64
	for _, t := range tables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT_BIG(*) FROM [dbo]."+t).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s: %w", t, err)
		}
		total += n
	}
	return total, nil
}

// latestLog is the output file of the newest timed run of the contender
// called name (the runner names them run<N>-<contender>-<step>-<step name>).
func (b *bench) latestLog(name string) string {
	matches, _ := filepath.Glob(filepath.Join(b.logDir, "run*-"+slug(name)+"-1-*.log"))
	newest, newestTime := "", time.Time{}
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.ModTime().After(newestTime) {
			newest, newestTime = m, fi.ModTime()
		}
	}
	return newest
}

// logLine is one line of mxmigrate's --log-format json.
type logLine struct {
	Time    time.Time `json:"time"`
	Msg     string    `json:"msg"`
	Seconds float64   `json:"seconds"`
}

// Phases derived from the log, added to the report's own.
const (
	phaseStaging = "staging restore (log)"
	phaseCopy    = "bulk copy (log)"
	phaseKeys    = "keys, indexes, sequences after the last copy (log)"
	phaseBuilds  = "key and index builds, summed over connections (log)"
)

// logSplit works out from the log's timestamps and the report's phases
// how long the load copied data and built keys: the copy runs from the
// line before the first "copied table" to the last one; keys, indexes and
// sequences from there to the end of the "restore database" phase (the
// first line's time plus the phases up to it). A version that builds keys
// beside the copies logs their build time summed over connections ("built
// keys and indexes"), which is reported too. The staging version's
// restore into its own PostgreSQL runs from its "restoring the backup
// into the staging PostgreSQL" line to the next line.
func logSplit(lines []logLine, phases []Phase) ([]Phase, error) {
	if len(lines) == 0 {
		return nil, errors.New("no JSON log lines")
	}
	var out []Phase
	for i, l := range lines {
		if strings.HasPrefix(l.Msg, "restoring the backup into the staging PostgreSQL") && i+1 < len(lines) {
			out = append(out, Phase{Name: phaseStaging, Seconds: lines[i+1].Time.Sub(l.Time).Seconds()})
			break
		}
	}
	first, last := -1, -1
	for i, l := range lines {
		if l.Msg == "copied table" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first <= 0 {
		return nil, errors.New(`no "copied table" line after another`)
	}
	out = append(out, Phase{Name: phaseCopy, Seconds: lines[last].Time.Sub(lines[first-1].Time).Seconds()})
	end := lines[0].Time
	found := false
	for _, p := range phases {
		end = end.Add(time.Duration(p.Seconds * float64(time.Second)))
		if p.Name == "restore database" {
			found = true
			break
		}
	}
	if !found {
		return nil, errors.New(`no "restore database" phase in the report`)
	}
	out = append(out, Phase{Name: phaseKeys, Seconds: max(0, end.Sub(lines[last].Time).Seconds())})
	for _, l := range lines {
		if l.Msg == "built keys and indexes" {
			out = append(out, Phase{Name: phaseBuilds, Seconds: l.Seconds})
		}
	}
	return out, nil
}

// addLogPhases adds logSplit's phases to the report file, where the
// runner reads the phases of a run.
func addLogPhases(report, logPath string) error {
	if logPath == "" {
		return errors.New("no output file of the run to read the log from")
	}
	f, err := os.Open(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	var lines []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && !l.Time.IsZero() {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	data, err := os.ReadFile(report)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", report, err)
	}
	split, err := logSplit(lines, readPhases(report))
	if err != nil {
		return fmt.Errorf("%s: %w", logPath, err)
	}
	phases, _ := doc["phases"].([]any)
	for _, p := range split {
		phases = append(phases, map[string]any{"name": p.Name, "seconds": p.Seconds})
	}
	doc["phases"] = phases
	data, err = json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(report, data, 0o644)
}

// sqlServerNotes sums up the SQL Server comparison per contender:
// throughput over the whole command and over its copy.
func sqlServerNotes(groups []GroupResult, d datasetFacts) []string {
	var notes []string
	for _, g := range groups {
		if g.Name != "sqlserver" {
			continue
		}
		for _, c := range g.Contenders {
			m := c.Median
			if m.OKRuns == 0 || m.WallSeconds <= 0 {
				continue
			}
			note := fmt.Sprintf("SQL Server, %s: %.1f s wall, %.0f rows/s and %.1f MB/s of table data over the whole command, peak RSS %.0f MiB",
				c.Name, m.WallSeconds, float64(d.Rows)/m.WallSeconds, float64(d.TableDataBytes)/1e6/m.WallSeconds, m.MaxRSSMiB)
			phases := map[string][]float64{}
			for _, s := range c.Samples {
				for _, p := range s.Phases {
					if s.OK {
						phases[p.Name] = append(phases[p.Name], p.Seconds)
					}
				}
			}
			if cp := phases[phaseCopy]; len(cp) > 0 && median(cp) > 0 {
				copySeconds := median(cp)
				note += fmt.Sprintf("; copy %.1f s (%.0f rows/s, %.1f MB/s)", copySeconds, float64(d.Rows)/copySeconds, float64(d.TableDataBytes)/1e6/copySeconds)
			}
			if k := phases[phaseKeys]; len(k) > 0 {
				note += fmt.Sprintf(", keys and indexes after the last copy %.1f s", median(k))
			}
			if b := phases[phaseBuilds]; len(b) > 0 {
				note += fmt.Sprintf(" (their builds took %.1f s summed over connections, most beside the copy)", median(b))
			}
			if st := phases[phaseStaging]; len(st) > 0 {
				note += fmt.Sprintf(", restore into the staging PostgreSQL %.1f s", median(st))
			}
			notes = append(notes, note+" (medians; the split from the log's timestamps).")
		}
	}
	return notes
}
