// Package dbcopytest is the contract every dbcopy target passes, run
// against a real server (as golang-migrate's database/testing is for its
// drivers). A target's package calls Run from one test:
//
//	func TestConformance(t *testing.T) { dbcopytest.Run(t, factory) }
//
// The suite loads the committed sample backup (testdata/sample.tar.gz) and
// checks: Open writes nothing; an unreachable server is a failure (exit 1);
// the lock (a second locker gets ErrLockHeld, a waiting one gets the lock
// when it is released, a killed holder frees it); the preflight (an empty
// database passes, a non-empty one is refused with the list of objects
// unless IfExistsDrop, other sessions are refused unless AllowConnected);
// a second Load is a no-op; a load killed (SIGKILL) in the middle of its
// data resumes to the same content; Inventory and ScanTable agree with the
// dump.
//
// The kills need a process to kill: the suite runs the test binary again
// as a child (-test.run naming the test that called Run). A package whose
// TestMain starts servers should skip them when InChild reports true.
package dbcopytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
	"github.com/mxmigrate/mxmigrate/verify/rowdiff"
)

// Factory is what a target gives the suite.
type Factory struct {
	// NewDatabase returns the URL of a fresh, empty database on a real
	// server, removed when t ends; it skips t when there is no server.
	NewDatabase func(t *testing.T) string
	// Unreachable is a URL of the target's kind, with the password
	// "hunter22", for a database on 127.0.0.1:port, where nothing listens.
	Unreachable func(port int) string
	// Query runs statement on a session of its own, ended before it
	// returns, and gives the first column of each row as text. The
	// session announces itself as mxmigrate's, so that the target's check
	// of other sessions ignores it even while the server is ending it.
	Query func(ctx context.Context, rawURL, statement string) ([]string, error)
	// Connect opens a session as an app would (not announced as
	// mxmigrate's), kept until it is closed.
	Connect func(ctx context.Context, rawURL string) (io.Closer, error)
	// CatalogQuery lists every object of the database, one text value per
	// row, in a stable order: Open and Preflight must leave it unchanged.
	CatalogQuery string
	// Options are given to every Open, besides what the suite sets.
	Options dbcopy.Options
}

// childEnv carries a childJob to the test binary run as a child.
const childEnv = "MXTEST_DBCOPYTEST_CHILD"

// InChild reports whether this process is a child the suite started: it
// needs no servers of its own, only the URL it was given.
func InChild() bool { return os.Getenv(childEnv) != "" }

// sampleBackup is the committed sample, relative to the module root.
const sampleBackup = "testdata/sample.tar.gz"

// password is the one the Factory's unreachable URL carries: no error may
// show it.
const password = "hunter22"

// Run runs the suite as subtests of t. Under -short it skips: every case
// needs a real server.
func Run(t *testing.T, f Factory) {
	if InChild() {
		runChild(t, f)
		return
	}
	testenv.SkipIfShort(t, "the dbcopy conformance suite's servers")
	s := &suite{f: f, top: t}
	s.src = loadSample(t)

	t.Run("OpenDoesNotWrite", s.openDoesNotWrite)
	t.Run("UnreachableIsAFailure", s.unreachable)
	t.Run("SecondLockIsRefused", s.secondLockIsRefused)
	t.Run("LockWaitsForTheHolder", s.lockWaits)
	t.Run("KilledHolderFreesTheLock", s.killedHolderFreesTheLock)
	t.Run("PreflightOfAnEmptyDatabase", s.preflightEmpty)
	t.Run("PreflightRefusesANonEmptySchemaUnlessDrop", s.preflightNonEmpty)
	t.Run("PreflightRefusesOtherSessions", s.preflightOtherSessions)
	t.Run("LoadAgreesWithTheDumpAndASecondLoadIsANoOp", s.loadTwice)
	t.Run("KilledLoadResumes", s.killedLoadResumes)
}

type suite struct {
	f   Factory
	top *testing.T
	src *dbcopy.Source

	// reference is the inventory of a complete, uninterrupted load.
	refOnce   sync.Once
	reference *dbcopy.Inventory
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// open opens rawURL with the factory's options changed by edit; the test
// closes it.
func (s *suite) open(t *testing.T, rawURL string, edit func(*dbcopy.Options)) dbcopy.Target {
	t.Helper()
	opts := s.f.Options
	opts.WorkDir = t.TempDir()
	opts.Log = slog.New(slog.DiscardHandler)
	if edit != nil {
		edit(&opts)
	}
	tg, err := dbcopy.Open(ctxFor(t), rawURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// migrate is the pipeline's order: Lock, Preflight, Load unless done.
func migrate(ctx context.Context, tg dbcopy.Target, src *dbcopy.Source) (*dbcopy.PreflightResult, error) {
	unlock, err := tg.Lock(ctx, time.Minute)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res, err := tg.Preflight(ctx, src)
	if err != nil || res.AlreadyDone {
		return res, err
	}
	return res, tg.Load(ctx, src)
}

// catalog lists the database's objects with the factory's query.
func (s *suite) catalog(t *testing.T, rawURL string) []string {
	t.Helper()
	out, err := s.f.Query(ctxFor(t), rawURL, s.f.CatalogQuery)
	if err != nil {
		t.Fatalf("list the objects: %v", err)
	}
	return out
}

// exec runs statements, each on a session of its own.
func (s *suite) exec(t *testing.T, rawURL string, statements ...string) {
	t.Helper()
	for _, stmt := range statements {
		if _, err := s.f.Query(ctxFor(t), rawURL, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func (s *suite) openDoesNotWrite(t *testing.T) {
	u := s.f.NewDatabase(t)
	before := s.catalog(t, u)
	tg := s.open(t, u, nil)
	if err := tg.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tg.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if after := s.catalog(t, u); !slices.Equal(before, after) {
		t.Errorf("Open and Close changed the database:\nbefore %q\nafter  %q", before, after)
	}
}

// unreachable: a server that does not answer is exit 1 (Failure), the
// same on every target, whichever call meets it first, and no error shows
// the password.
func (s *suite) unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	rawURL := s.f.Unreachable(port)
	if !strings.Contains(rawURL, password) {
		t.Fatalf("the factory's unreachable URL lacks the password %q", password)
	}
	ctx := ctxFor(t)
	check := func(call string, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s of an unreachable server succeeded", call)
		case exitcode.Of(err) != exitcode.Failure:
			t.Errorf("%s = %v: exit code %d, want %d (failure)", call, err, exitcode.Of(err), exitcode.Failure)
		case errors.Is(err, dbcopy.ErrPreflightRefused) || errors.Is(err, dbcopy.ErrLockHeld):
			t.Errorf("%s = %v: an unreachable server is no refusal", call, err)
		case strings.Contains(err.Error(), password):
			t.Errorf("%s: the error shows the password: %v", call, err)
		}
	}
	opts := s.f.Options
	opts.Log = slog.New(slog.DiscardHandler)
	tg, err := dbcopy.Open(ctx, rawURL, opts)
	if err != nil {
		check("Open", err)
		return
	}
	defer tg.Close()
	if strings.Contains(tg.String(), password) {
		t.Errorf("String() shows the password: %s", tg)
	}
	_, err = tg.Lock(ctx, 0)
	check("Lock", err)
	_, err = tg.Preflight(ctx, s.src)
	check("Preflight", err)
}

func (s *suite) secondLockIsRefused(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	unlock, err := s.open(t, u, nil).Lock(ctx, 0)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	defer unlock()
	_, err = s.open(t, u, nil).Lock(ctx, 0)
	assertLockHeld(t, err)
	// A wait that runs out while the lock stays held ends the same way.
	_, err = s.open(t, u, nil).Lock(ctx, time.Second)
	assertLockHeld(t, err)

	// Another database is another lock.
	other, err := s.open(t, s.f.NewDatabase(t), nil).Lock(ctx, 0)
	if err != nil {
		t.Fatalf("Lock of another database while the first is held: %v", err)
	}
	other()
}

func assertLockHeld(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, dbcopy.ErrLockHeld) || exitcode.Of(err) != exitcode.LockHeld {
		t.Fatalf("second Lock = %v (exit %d), want ErrLockHeld (exit %d)", err, exitcode.Of(err), exitcode.LockHeld)
	}
}

func (s *suite) lockWaits(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	unlock, err := s.open(t, u, nil).Lock(ctx, 0)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	waiter := s.open(t, u, nil)
	got := make(chan error, 1)
	go func() {
		unlockWaiter, err := waiter.Lock(ctx, 3*time.Minute)
		if err == nil {
			unlockWaiter()
		}
		got <- err
	}()
	// The holder still holds it: the waiter cannot have it yet.
	select {
	case err := <-got:
		t.Fatalf("the waiting Lock returned (%v) while the lock was held", err)
	default:
	}
	_, err = s.open(t, u, nil).Lock(ctx, 0)
	assertLockHeld(t, err)
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the waiting Lock after the release: %v", err)
	}
	unlock() // a second unlock is harmless
	again, err := s.open(t, u, nil).Lock(ctx, 0)
	if err != nil {
		t.Fatalf("Lock after both let go: %v", err)
	}
	again()
}

func (s *suite) killedHolderFreesTheLock(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	child := s.startChild(t, childJob{Role: roleLock, URL: u})
	child.waitForMark(t)
	_, err := s.open(t, u, nil).Lock(ctx, 0)
	assertLockHeld(t, err)
	child.kill(t)
	unlock, err := s.open(t, u, nil).Lock(ctx, time.Minute)
	if err != nil {
		t.Fatalf("Lock after its holder was killed: %v", err)
	}
	unlock()
}

func (s *suite) preflightEmpty(t *testing.T) {
	u := s.f.NewDatabase(t)
	before := s.catalog(t, u)
	res, err := s.open(t, u, nil).Preflight(ctxFor(t), s.src)
	if err != nil {
		t.Fatalf("Preflight of an empty database: %v (%+v)", err, res)
	}
	if res.AlreadyDone || res.Resumable || len(res.ToDrop) > 0 {
		t.Errorf("Preflight of an empty database = %+v", res)
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Errorf("check %s failed without an error: %s", c.Name, c.Detail)
		}
	}
	if after := s.catalog(t, u); !slices.Equal(before, after) {
		t.Errorf("Preflight changed the database:\nbefore %q\nafter  %q", before, after)
	}
}

// staleTable is an object the backup does not hold, in the schema the
// target loads into (the session's default schema).
const staleTable = "conformance_stale"

func (s *suite) preflightNonEmpty(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	s.exec(t, u, "CREATE TABLE "+staleTable+" (id integer)")
	before := s.catalog(t, u)

	res, err := s.open(t, u, nil).Preflight(ctx, s.src)
	if !errors.Is(err, dbcopy.ErrPreflightRefused) || exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("Preflight of a non-empty schema = %v (exit %d), want ErrPreflightRefused (exit %d)", err, exitcode.Of(err), exitcode.PreflightRefused)
	}
	if !strings.Contains(err.Error(), staleTable) || !strings.Contains(err.Error(), "--if-exists drop") {
		t.Errorf("the refusal %q does not name %s and the way out", err, staleTable)
	}
	if res == nil || !slices.ContainsFunc(res.Checks, func(c dbcopy.Check) bool { return !c.OK && strings.Contains(c.Detail, staleTable) }) {
		t.Errorf("no failed check names %s: %+v", staleTable, res)
	}
	if res != nil && len(res.ToDrop) > 0 {
		t.Errorf("ToDrop = %q without --if-exists drop", res.ToDrop)
	}

	drop := s.open(t, u, func(o *dbcopy.Options) { o.IfExists = dbcopy.IfExistsDrop })
	res, err = drop.Preflight(ctx, s.src)
	if err != nil {
		t.Fatalf("Preflight with IfExistsDrop: %v", err)
	}
	if !slices.ContainsFunc(res.ToDrop, func(o string) bool { return strings.Contains(o, staleTable) }) {
		t.Errorf("ToDrop = %q, want %s listed", res.ToDrop, staleTable)
	}
	if after := s.catalog(t, u); !slices.Equal(before, after) {
		t.Errorf("Preflight changed the database:\nbefore %q\nafter  %q", before, after)
	}
	if _, err := migrate(ctx, drop, s.src); err != nil {
		t.Fatalf("load with IfExistsDrop: %v", err)
	}
	if slices.ContainsFunc(s.catalog(t, u), func(o string) bool { return strings.Contains(o, staleTable) }) {
		t.Errorf("%s is still there after a load with IfExistsDrop", staleTable)
	}
	s.agreesWithDump(t, drop)
}

func (s *suite) preflightOtherSessions(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	app, err := s.f.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect as the app: %v", err)
	}
	defer app.Close()

	res, err := s.open(t, u, nil).Preflight(ctx, s.src)
	if !errors.Is(err, dbcopy.ErrPreflightRefused) || exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("Preflight with the app connected = %v (exit %d), want ErrPreflightRefused", err, exitcode.Of(err))
	}
	if !strings.Contains(err.Error(), "--allow-connected") {
		t.Errorf("the refusal %q does not name --allow-connected", err)
	}
	if res == nil || !slices.ContainsFunc(res.Checks, func(c dbcopy.Check) bool { return !c.OK }) {
		t.Errorf("no failed check explains the refusal: %+v", res)
	}

	res, err = s.open(t, u, func(o *dbcopy.Options) { o.AllowConnected = true }).Preflight(ctx, s.src)
	if err != nil {
		t.Fatalf("Preflight with AllowConnected: %v", err)
	}
	if !slices.ContainsFunc(res.Checks, func(c dbcopy.Check) bool { return c.OK && c.Warn }) {
		t.Errorf("AllowConnected passed without a warning: %+v", res.Checks)
	}
}

// recorder is a Progress that counts what it is told.
type recorder struct {
	mu     sync.Mutex
	phases []string
	added  int64
}

func (r *recorder) Phase(name string, _ int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases = append(r.phases, name)
}

func (r *recorder) Add(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.added += n
}

func (s *suite) loadTwice(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	first := &recorder{}
	tg := s.open(t, u, func(o *dbcopy.Options) { o.Progress = first })
	res, err := migrate(ctx, tg, s.src)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if res.AlreadyDone || res.Resumable {
		t.Errorf("the first load's preflight = %+v", res)
	}
	if first.added == 0 {
		t.Errorf("the first load reported no progress (phases %q)", first.phases)
	}
	inv := s.agreesWithDump(t, tg)
	s.setReference(inv)
	catalog := s.catalog(t, u)

	// A second run: the preflight says done, and Load alone is a no-op too.
	second := &recorder{}
	again := s.open(t, u, func(o *dbcopy.Options) { o.Progress = second })
	unlock, err := again.Lock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	res, err = again.Preflight(ctx, s.src)
	if err != nil || !res.AlreadyDone || res.Resumable {
		t.Fatalf("the second preflight = %+v, %v; want AlreadyDone", res, err)
	}
	if err := again.Load(ctx, s.src); err != nil {
		t.Fatalf("the second Load: %v", err)
	}
	if len(second.phases) > 0 || second.added > 0 {
		t.Errorf("the second Load redid work: phases %q, %d units", second.phases, second.added)
	}
	if after := s.catalog(t, u); !slices.Equal(catalog, after) {
		t.Errorf("the second Load changed the database:\nbefore %q\nafter  %q", catalog, after)
	}
	if inv2 := s.agreesWithDump(t, again); !reflect.DeepEqual(inv, inv2) {
		t.Errorf("the second Load changed the inventory:\nbefore %+v\nafter  %+v", inv, inv2)
	}
}

func (s *suite) setReference(inv *dbcopy.Inventory) {
	s.refOnce.Do(func() { s.reference = inv })
}

// killedLoadResumes kills a child in the middle of its load's data (it
// stops in its progress report of the first rows loaded), then loads
// again: the result is what an uninterrupted load gives.
func (s *suite) killedLoadResumes(t *testing.T) {
	ctx := ctxFor(t)
	u := s.f.NewDatabase(t)
	child := s.startChild(t, childJob{Role: roleLoad, URL: u, Source: s.src})
	child.waitForMark(t)
	child.kill(t)

	tg := s.open(t, u, nil)
	unlock, err := tg.Lock(ctx, time.Minute)
	if err != nil {
		t.Fatalf("Lock after the kill: %v", err)
	}
	res, err := tg.Preflight(ctx, s.src)
	if err != nil {
		t.Fatalf("Preflight after the kill: %v", err)
	}
	// Proof that the kill interrupted the load.
	if !res.Resumable || res.AlreadyDone {
		t.Fatalf("Preflight after the kill = %+v, want an interrupted load to resume", res)
	}
	if err := tg.Load(ctx, s.src); err != nil {
		t.Fatalf("resume: %v", err)
	}
	unlock()
	inv := s.agreesWithDump(t, tg)
	if s.reference == nil {
		ref := s.open(t, s.f.NewDatabase(t), nil)
		if _, err := migrate(ctx, ref, s.src); err != nil {
			t.Fatalf("reference load: %v", err)
		}
		s.setReference(s.agreesWithDump(t, ref))
	}
	if !reflect.DeepEqual(inv, s.reference) {
		t.Errorf("the resumed load differs from an uninterrupted one:\nresumed %+v\nwhole   %+v", inv, s.reference)
	}
	res, err = s.open(t, u, nil).Preflight(ctx, s.src)
	if err != nil || !res.AlreadyDone {
		t.Errorf("Preflight after the resume = %+v, %v; want AlreadyDone", res, err)
	}
}

// agreesWithDump checks Inventory (row counts, sequences, indexes,
// constraints) and ScanTable (every value, by digest) against the dump,
// and returns the inventory.
func (s *suite) agreesWithDump(t *testing.T, tg dbcopy.Target) *dbcopy.Inventory {
	t.Helper()
	ctx := ctxFor(t)
	inv, err := tg.Inventory(ctx)
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	rep := verify.CompareDatabase(s.src, inv)
	archive, err := pgdump.Open(s.src.DumpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	if err := rowdiff.Compare(ctx, archive, tg, rep, 2); err != nil {
		t.Fatalf("compare the contents: %v", err)
	}
	if !rep.OK() {
		t.Errorf("the target differs from the dump:\n%s", strings.Join(rep.Problems(), "\n"))
	}
	if len(inv.Tables) != len(s.src.Tables) {
		t.Errorf("Inventory has %d tables, the dump %d", len(inv.Tables), len(s.src.Tables))
	}
	return inv
}

// loadSample extracts the sample backup's dump and describes it as the
// pipeline does: the archive's header and contents, every table's rows
// counted from its data.
func loadSample(t *testing.T) *dbcopy.Source {
	t.Helper()
	src, err := describe(testenv.ExtractDump(t, filepath.Join(moduleRoot(t), sampleBackup)))
	if err != nil {
		t.Fatalf("read %s's dump: %v", sampleBackup, err)
	}
	return src
}

func describe(path string) (*dbcopy.Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	a, err := pgdump.ReadTOC(r)
	if err != nil {
		return nil, err
	}
	byID, err := a.CountAllRows(context.Background(), r)
	if err != nil {
		return nil, err
	}
	src := &dbcopy.Source{
		DumpPath: path, Fingerprint: a.Fingerprint(), ArchiveVersion: a.Header.Version(),
		MinRestoreMajor: a.Header.MinRestoreMajor(), ServerVersion: a.Header.ServerVersion, DumpVersion: a.Header.DumpVersion,
	}
	rows := map[string]int64{}
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Desc == "TABLE DATA" {
			rows[e.Tag] = byID[e.DumpID]
		}
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		switch e.Desc {
		case "TABLE":
			if src.Schema == "" {
				src.Schema = e.Namespace
			}
			src.Tables = append(src.Tables, dbcopy.SourceTable{Name: e.Tag, Rows: rows[e.Tag]})
		case "SEQUENCE SET":
			if name, value, isCalled, err := e.SequenceValue(); err == nil {
				src.Sequences = append(src.Sequences, dbcopy.SourceSequence{Name: pgdump.UnqualifiedName(name), Value: value, IsCalled: isCalled})
			}
		case "INDEX":
			table, _ := e.OwningTable()
			src.Indexes = append(src.Indexes, dbcopy.SourceObject{Kind: e.Desc, Name: e.Tag, Table: table})
		case "CONSTRAINT", "FK CONSTRAINT":
			table, _ := e.OwningTable()
			src.Constraints = append(src.Constraints, dbcopy.SourceObject{Kind: e.Desc, Name: e.ConstraintName(), Table: table})
		}
	}
	if len(src.Tables) == 0 {
		return nil, errors.New("no tables")
	}
	return src, nil
}

// moduleRoot is the folder of go.mod above the test's working directory
// (its package's folder).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// The child's roles.
const (
	roleLock = "lock" // take the lock, mark, and hold it until killed
	roleLoad = "load" // load, and stop in the middle of the data for good
)

// childJob is what a child is told, as JSON in childEnv.
type childJob struct {
	Role   string
	URL    string
	Source *dbcopy.Source `json:",omitempty"`
	// Mark is the file the child creates when it has reached the point
	// where the parent kills it.
	Mark string
}

type child struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	mark string
	done chan struct{}
}

// startChild runs job in the test binary, as the test that called Run.
func (s *suite) startChild(t *testing.T, job childJob) *child {
	t.Helper()
	job.Mark = filepath.Join(t.TempDir(), "mark")
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	var pattern []string
	for _, part := range strings.Split(s.top.Name(), "/") {
		pattern = append(pattern, "^"+part+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	c := &child{cmd: cmd, out: &bytes.Buffer{}, mark: job.Mark, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	return c
}

// waitForMark waits (bounded) until the child has reached its mark.
func (c *child) waitForMark(t *testing.T) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for {
		if _, err := os.Stat(c.mark); err == nil {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("the child ended before its mark:\n%s", c.out)
		case <-deadline:
			t.Fatalf("the child did not reach its mark in 3 minutes:\n%s", c.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the child with SIGKILL (on Windows, TerminateProcess).
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// runChild is the child's side: it does its job and never returns until
// killed (a child that gets past its mark fails).
func runChild(t *testing.T, f Factory) {
	var job childJob
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &job); err != nil {
		t.Fatalf("child job: %v", err)
	}
	mark := func() {
		if err := os.WriteFile(job.Mark, nil, 0o644); err != nil {
			t.Errorf("write the mark: %v", err)
		}
	}
	ctx := context.Background()
	opts := f.Options
	opts.WorkDir = t.TempDir()
	opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if job.Role == roleLoad {
		opts.Progress = &stopInData{mark: mark}
	}
	tg, err := dbcopy.Open(ctx, job.URL, opts)
	if err != nil {
		t.Fatalf("child: Open: %v", err)
	}
	switch job.Role {
	case roleLock:
		if _, err := tg.Lock(ctx, 0); err != nil {
			t.Fatalf("child: Lock: %v", err)
		}
		mark()
		select {}
	case roleLoad:
		_, err := migrate(ctx, tg, job.Source)
		t.Fatalf("child: the load was to stop in its data and be killed, but it returned %v", err)
	default:
		t.Fatalf("child: unknown role %q", job.Role)
	}
}

// stopInData marks and then blocks for good at the first rows reported
// in a data phase: the load is then in the middle of its data.
type stopInData struct {
	mark func()
	mu   sync.Mutex
	data bool
}

func (p *stopInData) Phase(name string, _ int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data = strings.HasPrefix(name, "data")
}

func (p *stopInData) Add(n int64) {
	p.mu.Lock()
	data := p.data
	p.mu.Unlock()
	if data && n > 0 {
		p.mark()
		select {}
	}
}
