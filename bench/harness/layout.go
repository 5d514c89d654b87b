package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// A layout is where the processes of a run may execute. "shared": every
// CPU for everyone, as on a laptop. "pinned": the servers (PostgreSQL and
// MinIO) on one half of the CPUs and the client side (mxmigrate and the
// tools it is compared with) on the other, closer to a real cutover where
// the servers are elsewhere. BENCH_LAYOUT picks shared, pinned or both
// (the default); each layout runs every comparison, RUNS times.
type layout struct {
	name       string
	serverCPUs string // taskset's CPU list; "" leaves every CPU
	clientCPUs string
}

const (
	layoutShared = "shared"
	layoutPinned = "pinned"
)

// layoutsFromEnv reads BENCH_LAYOUT. Pinning needs Linux, two CPUs and
// taskset; without them the pinned layout is left out and a note says why.
func layoutsFromEnv() (layouts []layout, notes []string, err error) {
	want := strings.TrimSpace(os.Getenv("BENCH_LAYOUT"))
	if want == "" {
		want = "both"
	}
	var names []string
	switch want {
	case layoutShared, layoutPinned:
		names = []string{want}
	case "both":
		names = []string{layoutShared, layoutPinned}
	default:
		return nil, nil, fmt.Errorf("BENCH_LAYOUT=%s: want shared, pinned or both", want)
	}
	for _, name := range names {
		if name == layoutShared {
			layouts = append(layouts, layout{name: layoutShared})
			continue
		}
		l, why := pinnedLayout()
		if why != "" {
			notes = append(notes, "The pinned layout was not run: "+why+".")
			continue
		}
		layouts = append(layouts, l)
	}
	if len(layouts) == 0 {
		return nil, notes, errors.New("BENCH_LAYOUT=pinned, but " + strings.TrimSuffix(strings.TrimPrefix(notes[0], "The pinned layout was not run: "), "."))
	}
	return layouts, notes, nil
}

// pinnedLayout splits the CPUs: the first half for the servers, the rest
// for the client side (CPU 0 and CPU 1 on two cores).
func pinnedLayout() (layout, string) {
	if runtime.GOOS != "linux" {
		return layout{}, "CPU pinning is done with taskset, on Linux only"
	}
	n := runtime.NumCPU()
	if n < 2 {
		return layout{}, "it needs at least two CPUs"
	}
	if lookPath("taskset") == "" {
		return layout{}, "taskset (util-linux) is not installed"
	}
	half := n / 2
	return layout{name: layoutPinned, serverCPUs: cpuRange(0, half-1), clientCPUs: cpuRange(half, n-1)}, ""
}

func cpuRange(first, last int) string {
	if first == last {
		return strconv.Itoa(first)
	}
	return fmt.Sprintf("%d-%d", first, last)
}

// describe says where everything runs, for the results.
func (l layout) describe() string {
	if l.serverCPUs == "" {
		return "shared layout: servers and client on every CPU"
	}
	return fmt.Sprintf("pinned layout: PostgreSQL and MinIO on CPU %s, the client side on CPU %s", l.serverCPUs, l.clientCPUs)
}

// apply pins the running servers to the layout's server CPUs (or frees
// them on every CPU), every thread and every child process they have now;
// the backends PostgreSQL starts later inherit the postmaster's affinity.
// Timed commands are pinned as they start (clientArgv).
func (b *bench) applyLayout(ctx context.Context, l layout) error {
	b.layout = l
	cpus := l.serverCPUs
	if cpus == "" {
		if lookPath("taskset") == "" || runtime.GOOS != "linux" {
			return nil // nothing was ever pinned
		}
		cpus = cpuRange(0, runtime.NumCPU()-1)
	}
	pids, err := b.serverPIDs()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		out, err := exec.CommandContext(ctx, "taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
		if err != nil && processExists(pid) {
			return fmt.Errorf("taskset -a -p -c %s %d: %v: %s", cpus, pid, err, strings.TrimSpace(string(out)))
		}
	}
	b.log.Info("layout", "layout", l.name, "where", l.describe())
	return nil
}

// serverPIDs are the postmaster, its children, and MinIO.
func (b *bench) serverPIDs() ([]int, error) {
	data, err := os.ReadFile(filepath.Join(b.pg.Dir(), "data", "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("find PostgreSQL's postmaster: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pm}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pm))
	for _, t := range tasks {
		children, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(children)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	if b.minio != nil && b.minio.cmd != nil && b.minio.cmd.Process != nil {
		pids = append(pids, b.minio.cmd.Process.Pid)
	}
	return pids, nil
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// clientArgv pins a timed command, and every process it starts, to the
// layout's client CPUs.
func (b *bench) clientArgv(argv []string) []string {
	if b.layout.clientCPUs == "" {
		return argv
	}
	return append([]string{"taskset", "-c", b.layout.clientCPUs}, argv...)
}

// markLayout names the layout in every group and claim of one pass, so
// that the two passes read apart in the results.
func markLayout(groups []GroupResult, l layout) {
	for gi := range groups {
		g := &groups[gi]
		g.Layout = l.name
		g.Title += " (" + l.describe() + ")"
		for ci := range g.Claims {
			g.Claims[ci].Claim = "[" + l.name + "] " + g.Claims[ci].Claim
		}
	}
}

// wholeVersusParts is the pinned layout's claim: `migrate` at most 1.10x
// the slower of `db` and `files` run alone, per run, then the median.
// It is added to the migrate group when db, files and migrate all ran.
func wholeVersusParts(groups []GroupResult, l layout) {
	const most = 1.10
	var db, files, migrate *GroupResult
	for gi := range groups {
		switch g := &groups[gi]; g.Name {
		case "db":
			db = g
		case "files":
			files = g
		case "migrate":
			migrate = g
		}
	}
	if db == nil || files == nil || migrate == nil || len(db.Contenders) == 0 || len(files.Contenders) == 0 || len(migrate.Contenders) == 0 {
		return
	}
	claim := ClaimResult{
		Claim:    fmt.Sprintf("[%s] `mxmigrate migrate` at most %.2fx the slower of `db` and `files` run alone", l.name, most),
		Measured: "no run in which all three succeeded",
	}
	var ratios []float64
	dbS, filesS, migS := db.Contenders[0].Samples, files.Contenders[0].Samples, migrate.Contenders[0].Samples
	for i := range min(len(dbS), len(filesS), len(migS)) {
		if !dbS[i].OK || !filesS[i].OK || !migS[i].OK {
			continue
		}
		if slower := max(dbS[i].WallSeconds, filesS[i].WallSeconds); slower > 0 {
			ratios = append(ratios, migS[i].WallSeconds/slower)
		}
	}
	if len(ratios) > 0 {
		r := median(ratios)
		met := r <= most
		parts := make([]string, len(ratios))
		for i, x := range ratios {
			parts[i] = fmt.Sprintf("%.2f", x)
		}
		claim.Measured = fmt.Sprintf("%.2fx (per run: %s; needs at most %.2fx)", r, strings.Join(parts, ", "), most)
		claim.Met = &met
	}
	migrate.Claims = append(migrate.Claims, claim)
}
