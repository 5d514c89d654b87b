package pipeline

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/runbook"
	"github.com/mxmigrate/mxmigrate/snapshot"
)

// probeSize is the size of the object plan writes (and removes) to prove
// the store is writable and to measure its upload rate.
const probeSize = 4 << 20

// probeKeyPrefix starts the probe object's key; the rest is random.
const probeKeyPrefix = "mxmigrate-probe-"

// ProbeDescription says exactly what plan does to a store: the one thing
// it writes anywhere.
const ProbeDescription = "The one thing plan writes is one object of 4 MiB named " + probeKeyPrefix + "<16 hex digits> " +
	"at the root of the store's folder (the URL's path; --prefix is not applied), which it reads back and deletes; " +
	"on a bucket with versioning a delete marker and the deleted version remain. It creates no bucket, container " +
	"or folder, even with --create: it says that migrate would."

// assumedRestoreRate is the database restore rate the estimate assumes, in
// bytes of source database per second: a database cannot be timed without
// writing to it, and plan writes nothing. pg_restore -j 2 on two cores
// restores Mendix-shaped data at roughly this rate (see bench/).
const assumedRestoreRate = 40 << 20

// Plan is a dry run: it reads the backup, runs every preflight check
// against the targets, and estimates the time a migration takes. It starts
// nothing (--db local must be running already) and writes nothing to the
// targets except the store's probe object (ProbeDescription), which it
// removes again.
func Plan(ctx context.Context, cfg Config, modelVersion string, window time.Duration) (runbook.Plan, error) {
	cfg.defaults()
	plan := runbook.Plan{ToolVersion: cfg.Version, TargetModelVersion: modelVersion}
	if err := cfg.validate(needDB); err != nil {
		return plan, err
	}
	plan.Options = PlanOptions(cfg, window)

	// The store is listed once, before the backup is read, so that the
	// read can tell which of its files the store holds already.
	var listing *storeListing
	if cfg.Files != "" {
		listing = planListing(ctx, &cfg)
	}
	var onBlob func(snapshot.Blob)
	if listing != nil {
		onBlob = func(b snapshot.Blob) { listing.blob(&plan.Store, b) }
	}
	started := time.Now()
	in, err := inspect(ctx, cfg.Backup, onBlob)
	if err != nil {
		return plan, err
	}
	readTime := time.Since(started)
	if listing != nil {
		listing.finish(&plan.Store)
	}
	plan.Backup = backupFacts(in, cfg.Backup)
	if in.source == nil {
		return plan, exitcode.With(exitcode.BadInput, errors.New("the backup holds no database dump"))
	}

	src := in.source
	if kindOf(cfg.DB) == runbook.DatabaseSQLServer {
		// SQL Server's preflight reads the dump itself (its schema, the
		// unique keys' values): it needs the dump on local disk.
		path, cleanup, err := extractDump(ctx, &cfg)
		if err != nil {
			return plan, err
		}
		defer cleanup()
		withPath := *src
		withPath.DumpPath = path
		src = &withPath
	}
	plan.Database, plan.Checks = planDatabase(ctx, &cfg, src)
	var uploadRate float64
	if cfg.Files != "" {
		var checks []runbook.Check
		plan.Files, checks, uploadRate = planFiles(ctx, &cfg)
		plan.Checks = append(plan.Checks, checks...)
	}
	plan.Estimate = estimate(in, backupSize(cfg.Backup), readTime, uploadRate, plan.Store.PresentBytes)
	for _, c := range plan.Checks {
		if !c.OK {
			return plan, exitcode.With(exitcode.PreflightRefused, fmt.Errorf("preflight %s: %s", c.Name, c.Detail))
		}
	}
	return plan, nil
}

func backupFacts(in *Inspection, path string) runbook.BackupFacts {
	f := runbook.BackupFacts{Name: filepath.Base(path), Kind: string(in.Kind), Files: int64(in.Files), FilesBytes: in.FilesBytes,
		Sequences: len(in.Sequences), Indexes: len(in.Indexes), Anomalies: in.AnomalyCount}
	if f.Kind == "folder" {
		f.Kind = runbook.BackupFullSnapshot
	}
	if m := in.Metadata; m != nil {
		f.ModelVersion, f.DatabaseSize = m.ModelVersion, m.DatabaseSize
	}
	if d := in.Dump; d != nil {
		f.SnapshotTime, f.DumpSize = d.Created, d.Size
	}
	for _, t := range in.Tables {
		f.Tables = append(f.Tables, runbook.TableFacts{Name: t.Name, Rows: t.Rows})
	}
	return f
}

// extractDump writes the backup's dump into a run folder under the work
// folder; cleanup removes both.
func extractDump(ctx context.Context, cfg *Config) (string, func(), error) {
	backup, runDir, cleanupDir, err := openBackup(cfg)
	if err != nil {
		return "", nil, err
	}
	path, removeDump, err := backup.DumpFile(ctx, runDir)
	if err != nil {
		cleanupDir()
		return "", nil, err
	}
	return path, func() { removeDump(); cleanupDir() }, nil
}

// planDatabase connects to the target and runs its checks: the lock is
// free, and the target's own preflight.
func planDatabase(ctx context.Context, cfg *Config, src *dbcopy.Source) (runbook.TargetFacts, []runbook.Check) {
	facts := runbook.TargetFacts{Kind: kindOf(cfg.DB), EnvVar: runbook.DefaultDatabaseEnv}
	fail := func(name string, err error) []runbook.Check {
		return []runbook.Check{{Name: name, Detail: err.Error()}}
	}
	dbURL := cfg.DB
	if dbURL == LocalDB {
		var err error
		if dbURL, err = cfg.findLocalDB(ctx, "plan"); err != nil {
			return facts, fail("database reachable", err)
		}
	}
	target, err := openTarget(ctx, dbURL, cfg.dbOptions(cfg.WorkDir))
	if err != nil {
		return facts, fail("database reachable", err)
	}
	defer target.Close()
	facts.URL = target.String()
	facts.Identity, facts.IdentityKind, facts.IdentityID = databaseIdentity(dbURL, dbcopy.IdentityOf(target))
	unlock, err := target.Lock(ctx, 0)
	if err != nil {
		return facts, fail("migration lock free", err)
	}
	defer unlock()
	checks := []runbook.Check{{Name: "migration lock free", OK: true, Detail: "no other migration holds the target's lock"}}
	if facts.Identity != "" {
		checks = append(checks, runbook.Check{Name: "database sign-in", OK: true, Detail: "signed in as " + facts.Identity})
	}
	pre, err := target.Preflight(ctx, src)
	if pre != nil {
		for _, c := range pre.Checks {
			checks = append(checks, runbook.Check{Name: c.Name, OK: c.OK, Warn: c.Warn, Detail: c.Detail})
		}
		if pre.AlreadyDone {
			checks = append(checks, runbook.Check{Name: "earlier migration", OK: true, Warn: true, Detail: "this backup's database is already loaded into the target: migrate will verify it and upload only the files the store lacks"})
		}
		if len(pre.ToDrop) > 0 {
			checks = append(checks, runbook.Check{Name: "objects to drop", OK: true, Warn: true, Detail: fmt.Sprintf("--if-exists drop removes %d objects: %s", len(pre.ToDrop), strings.Join(firstN(pre.ToDrop, 10), ", "))})
		}
	}
	if err != nil && (pre == nil || allOK(pre.Checks)) {
		checks = append(checks, runbook.Check{Name: "preflight", Detail: err.Error()})
	}
	return facts, checks
}

// planFiles proves the store is reachable and writable with a probe object
// that is removed again, and measures the upload rate with it. A missing
// bucket, container or folder is not created: with --create, plan says
// that migrate will create it.
func planFiles(ctx context.Context, cfg *Config) (runbook.TargetFacts, []runbook.Check, float64) {
	facts := runbook.TargetFacts{Kind: kindOf(cfg.Files), EnvVar: runbook.DefaultFilesEnv, URL: redact.URL(cfg.Files)}
	store, err := cfg.openExistingStore(ctx)
	if err != nil {
		if cfg.Create && errors.Is(err, blobsync.ErrNotExist) {
			return facts, []runbook.Check{{Name: "store reachable", OK: true, Warn: true,
				Detail: redact.Text(err.Error()) + ": migrate --create will create it (plan creates nothing, so the store's write check was not run)"}}, 0
		}
		return facts, []runbook.Check{{Name: "store reachable", Detail: redact.Text(err.Error())}}, 0
	}
	defer store.Close()
	facts.URL = store.String()
	facts.Identity, facts.IdentityKind, facts.IdentityID = storeIdentity(blobsync.IdentityOf(store))
	checks := []runbook.Check{{Name: "store reachable", OK: true, Detail: store.String()}}
	if facts.Identity != "" {
		// The probe below proves this identity can write, read and delete.
		checks = append(checks, runbook.Check{Name: "store sign-in", OK: true, Detail: "signed in as " + facts.Identity})
	}
	data := make([]byte, probeSize)
	_, _ = rand.Read(data)
	key := fmt.Sprintf("%s%x", probeKeyPrefix, data[:8])
	started := time.Now()
	_, err = store.Put(ctx, key, blobsync.BytesPayload(data))
	took := time.Since(started)
	if err == nil {
		var info blobsync.ObjectInfo
		if info, err = store.Stat(ctx, key); err == nil && info.Size != probeSize {
			err = fmt.Errorf("the probe object reads back with %d bytes, not %d", info.Size, probeSize)
		}
	}
	if derr := store.Delete(ctx, key); err == nil && derr != nil {
		err = fmt.Errorf("the probe object %s was written but could not be removed: %w", key, derr)
	}
	if err != nil {
		return facts, append(checks, runbook.Check{Name: "store writable", Detail: err.Error()}), 0
	}
	rate := float64(probeSize) / took.Seconds()
	checks = append(checks, runbook.Check{Name: "store writable", OK: true,
		Detail: fmt.Sprintf("wrote, read back and removed the probe object %s (%s/s)", key, formatRate(rate))})
	return facts, checks, rate
}

// planListing lists the store for plan; nil when it cannot (the store
// checks say why).
func planListing(ctx context.Context, cfg *Config) *storeListing {
	store, err := cfg.openExistingStore(ctx)
	if err != nil {
		return nil
	}
	defer store.Close()
	l, err := listStore(ctx, store, cfg.Prefix, cfg.Suffix)
	if err != nil {
		cfg.Log.Warn("listing the store failed; the estimate assumes it holds none of the backup's files", "err", err)
		return nil
	}
	return l
}

// listSome shows the first of n items.
func listSome(kind string, n int, items []string) []string {
	if n == 0 {
		return nil
	}
	const shown = 20
	more := ""
	if len(items) > shown {
		items, more = items[:shown], fmt.Sprintf(" ... and %d more", n-shown)
	} else if n > len(items) {
		more = fmt.Sprintf(" ... and %d more", n-len(items))
	}
	return []string{fmt.Sprintf("%s (%d): %s%s", kind, n, strings.Join(items, ", "), more)}
}

// PlanOptions are the options a plan records for the runbook's commands:
// every database and store option of cfg (completed with the defaults).
func PlanOptions(cfg Config, window time.Duration) runbook.Options {
	cfg.defaults()
	return runbook.Options{
		BackupPath: cfg.Backup, WorkDir: cfg.WorkDir, Window: window,
		Jobs: cfg.Jobs, Schema: cfg.Schema, IfExists: cfg.IfExists, AllowConnected: cfg.AllowConnected,
		WaitLock: cfg.WaitLock, TypeMapFile: cfg.TypeMapFile, Loader: cfg.Loader, Checksums: cfg.Checksums,
		Transfers: cfg.Transfers, Prefix: cfg.Prefix, Suffix: cfg.Suffix, MemoryBudget: cfg.MemoryBudget,
		Overwrite: cfg.Overwrite, Create: cfg.Create, Prune: cfg.Prune,
		MaxBlobSize:      nonDefault(cfg.MaxBlobSize, DefaultMaxBlobSize),
		StoreGiveUp:      nonDefault(cfg.StoreGiveUp, blobsync.DefaultGiveUpAfter),
		StoreMaxFailures: nonDefault(cfg.StoreMaxFailures, blobsync.DefaultMaxFailedInARow),
	}
}

// nonDefault is v, or zero when it is the default: the runbook's commands
// then leave the option out.
func nonDefault[T comparable](v, def T) T {
	var zero T
	if v == def {
		return zero
	}
	return v
}

// estimate turns what plan measured into durations: the backup's read
// rate bounds everything, the probe's upload rate (times the transfers in
// flight, a deliberately cautious half of them) bounds the files, and the
// database restore rate is assumed.
func estimate(in *Inspection, size int64, readTime time.Duration, uploadRate float64, presentBytes int64) runbook.Estimate {
	readRate := float64(size) / max(readTime.Seconds(), 0.001)
	e := runbook.Estimate{Verify: readTime}
	dbBytes := float64(in.Dump.Size)
	if in.Metadata != nil && in.Metadata.DatabaseSize > 0 {
		dbBytes = float64(in.Metadata.DatabaseSize)
	}
	e.Database = seconds(dbBytes / assumedRestoreRate)
	basis := []string{fmt.Sprintf("backup read at %s/s on this machine", formatRate(readRate))}
	if uploadRate > 0 {
		filesRate := min(readRate, uploadRate*8)
		e.Files = seconds(float64(in.FilesBytes) / filesRate)
		// What the store holds already is only read past, at the read rate.
		left := float64(in.FilesBytes - presentBytes)
		e.FilesLeft = seconds(left/filesRate + float64(presentBytes)/readRate)
		basis = append(basis, fmt.Sprintf("store upload measured at %s/s for one object", formatRate(uploadRate)))
	}
	basis = append(basis, fmt.Sprintf("database restore assumed at %s/s", formatRate(assumedRestoreRate)))
	e.Basis = strings.Join(basis, "; ")
	return e
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

func formatRate(bytesPerSecond float64) string {
	return fmt.Sprintf("%.1f MB", bytesPerSecond/1e6)
}

func backupSize(path string) int64 {
	var total int64
	_ = filepath.Walk(path, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// kindOf names a target's kind by its URL scheme, as the runbook expects.
func kindOf(raw string) string {
	if raw == LocalDB {
		return runbook.DatabasePostgres
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "postgres", "postgresql":
		return runbook.DatabasePostgres
	case "sqlserver", "azuresql":
		return runbook.DatabaseSQLServer
	case "s3":
		return runbook.FilesS3
	case "azblob", "https", "http":
		return runbook.FilesAzure
	case "file", "":
		return runbook.FilesLocal
	}
	return u.Scheme
}

func allOK(checks []dbcopy.Check) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return true
}

func firstN(items []string, n int) []string {
	if len(items) > n {
		return append(items[:n:n], fmt.Sprintf("and %d more", len(items)-n))
	}
	return items
}

// WritePlanText prints a plan for people: what would move, each check,
// and the estimate.
func WritePlanText(w io.Writer, p runbook.Plan) {
	var rows int64
	for _, t := range p.Backup.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(w, "Plan for %s (%s, model %s)\n", escape.Text(p.Backup.Name), p.Backup.Kind, escape.Text(orNone(p.Backup.ModelVersion)))
	fmt.Fprintf(w, "  database  %d tables, %d rows, %d sequences, %d indexes -> %s\n", len(p.Backup.Tables), rows, p.Backup.Sequences, p.Backup.Indexes, orNone(redact.URL(p.Database.URL)))
	if p.Files.Kind != "" {
		fmt.Fprintf(w, "  files     %d files, %d bytes -> %s\n", p.Backup.Files, p.Backup.FilesBytes, orNone(redact.URL(p.Files.URL)))
	}
	if line := storeFactsText(p.Store); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
		for _, line := range listSome("prune candidates", p.Store.PruneCandidates, p.Store.PruneKeys) {
			fmt.Fprintf(w, "            %s\n", escape.Text(line))
		}
	}
	if p.Backup.Anomalies > 0 {
		fmt.Fprintf(w, "  anomalies %d in the backup (see mxmigrate inspect)\n", p.Backup.Anomalies)
	}
	fmt.Fprintln(w, "Checks")
	for _, c := range p.Checks {
		mark := "ok  "
		switch {
		case !c.OK:
			mark = "FAIL"
		case c.Warn:
			mark = "warn"
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", mark, c.Name, escape.Text(redact.Text(c.Detail)))
	}
	e := p.Estimate
	fmt.Fprintf(w, "Estimate  %s in all (database %s, files %s, side by side; verification %s)\n",
		roughly(e.Total()), roughly(e.Database), roughly(e.Files), roughly(e.Verify))
	if p.Files.Kind != "" && p.Store.Listed {
		fmt.Fprintf(w, "          window with the store as it is now %s; without pre-seeding %s (pre-seed with mxmigrate files EARLIER-BACKUP --files URL)\n",
			roughly(e.Window()), roughly(e.Total()))
	}
	fmt.Fprintf(w, "          %s\n", e.Basis)
	if p.Files.Kind != "" {
		fmt.Fprintln(w, "Nothing was written to the targets but the store's probe object, removed again (see plan --help).")
	} else {
		fmt.Fprintln(w, "Nothing was written to the target.")
	}
}

// roughly prints an estimate without false precision.
func roughly(d time.Duration) string {
	if d < time.Second {
		return "under 1s"
	}
	return d.Round(time.Second).String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
