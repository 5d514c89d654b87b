package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// bench holds what every trial shares: the servers, the tools, the backup.
type bench struct {
	root        string
	log         *slog.Logger
	mx          string // the freshly built bin/mxmigrate
	backup      string
	dataset     datasetFacts
	tools       *toolset
	pg          *pgserver.Cluster
	minio       *minioServer
	scratchDir  string // removed at the end
	logDir      string // kept: the output of every timed command
	stepTimeout time.Duration
	// extractedDump and sourceDB are prepared once, untimed: the bare
	// pg_restore's input and pgloader's source.
	extractedDump string
	sourceDB      string
	// migrated is what the last `mxmigrate migrate` left for verify.
	migrated *migratedTargets
	// exportSrc is what the export comparison reads, made once.
	exportSrc *exportSource
	// profileEnv is added to mxmigrate's environment in the profile run.
	profileEnv []string
	seq        int
	// layout is where the timed commands run (layout.go).
	layout layout
}

type migratedTargets struct{ db, bucket string }

// step is one timed command.
type step struct {
	name string
	argv []string
	env  []string // on top of baseEnv
}

// trial is one run of a contender: fresh targets made before it (untimed),
// the timed steps, a check that the job was really done, and cleanup.
type trial struct {
	steps []step
	// check runs after the steps succeeded; untimed.
	check func(ctx context.Context) error
	// report is mxmigrate's --report file, read for its phases.
	report  string
	cleanup func(ctx context.Context, ok bool)
}

// contender is one way of doing a group's job.
type contender struct {
	name      string
	mxmigrate bool
	command   string // how it runs, for the results
	prepare   func(ctx context.Context) (*trial, error)
}

// groupSpec is one comparison: contenders[0] is mxmigrate.
type groupSpec struct {
	name, title string
	contenders  []contender
	speed       []speedClaim
	memory      *memoryClaim
}

// speedClaim bounds one comparison, in the terms the README states it:
// either a speedup (the baseline's wall time over mxmigrate's) of at least
// minSpeedup, or mxmigrate's wall time over the baseline's of at most
// maxTimeRatio; each the median of the per-run ratios.
type speedClaim struct {
	baseline     string
	minSpeedup   float64
	maxTimeRatio float64
	text         string
}

// memoryClaim: mxmigrate's peak RSS, the largest over its runs, under
// maxMiB.
type memoryClaim struct {
	maxMiB float64
	text   string
}

// runGroups runs every group runs times, alternating the order of the
// contenders, and summarises. It stops at the first interrupt.
func (b *bench) runGroups(ctx context.Context, specs []groupSpec, runs int) ([]GroupResult, error) {
	results := make([]GroupResult, len(specs))
	for gi, g := range specs {
		results[gi] = GroupResult{Name: g.name, Title: g.title}
		for _, c := range g.contenders {
			results[gi].Contenders = append(results[gi].Contenders, ContenderResult{Name: c.name, Command: c.command, Mxmigrate: c.mxmigrate})
		}
	}
	for run := range runs {
		for gi, g := range specs {
			for pos, ci := range runOrder(len(g.contenders), run) {
				c := g.contenders[ci]
				b.log.Info("timing", "run", fmt.Sprintf("%d/%d", run+1, runs), "contender", c.name)
				s := b.runTrial(ctx, c, run, pos+1)
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if s.OK {
					b.log.Info("done", "contender", c.name, "wall", round2(s.WallSeconds), "cpu", round2(s.CPUSeconds()), "peakRSSMiB", int(s.MaxRSSMiB()))
				} else {
					b.log.Warn("failed", "contender", c.name, "err", s.Error)
				}
				results[gi].Contenders[ci].Samples = append(results[gi].Contenders[ci].Samples, s)
			}
		}
	}
	for gi := range results {
		evaluate(&results[gi], specs[gi])
	}
	return results, nil
}

// evaluate fills the medians, the comparisons against mxmigrate and the
// claims.
func evaluate(g *GroupResult, spec groupSpec) {
	for ci := range g.Contenders {
		g.Contenders[ci].Median = summarise(g.Contenders[ci].Samples)
	}
	mx := g.Contenders[0]
	for _, c := range g.Contenders[1:] {
		g.Comparisons = append(g.Comparisons, compare(mx, c))
	}
	for _, sc := range spec.speed {
		claim := ClaimResult{Claim: sc.text, Measured: "no successful pair of runs"}
		for _, cmp := range g.Comparisons {
			if cmp.Baseline != sc.baseline || len(cmp.Speedups) == 0 {
				continue
			}
			var met bool
			if sc.minSpeedup > 0 {
				met = cmp.MedianSpeedup >= sc.minSpeedup
				claim.Measured = fmt.Sprintf("speedup %.2fx (needs at least %.2fx)", cmp.MedianSpeedup, sc.minSpeedup)
			} else {
				ratios := make([]float64, len(cmp.Speedups))
				for i, s := range cmp.Speedups {
					ratios[i] = 1 / s
				}
				r := median(ratios)
				met = r <= sc.maxTimeRatio
				claim.Measured = fmt.Sprintf("mxmigrate's wall time %.2fx the baseline's (needs at most %.2fx)", r, sc.maxTimeRatio)
			}
			claim.Met = &met
		}
		g.Claims = append(g.Claims, claim)
	}
	if mc := spec.memory; mc != nil {
		claim := ClaimResult{Claim: mc.text, Measured: "no successful run"}
		peak := 0.0
		for _, s := range mx.Samples {
			if s.OK {
				peak = max(peak, s.MaxRSSMiB())
			}
		}
		if mx.Median.OKRuns > 0 {
			met := peak < mc.maxMiB
			claim.Measured = fmt.Sprintf("%.0f MiB (largest of %d runs)", peak, mx.Median.OKRuns)
			claim.Met = &met
		}
		g.Claims = append(g.Claims, claim)
	}
}

// runTrial prepares, times and cleans up one run of c.
func (b *bench) runTrial(ctx context.Context, c contender, run, position int) Sample {
	s := Sample{Run: run + 1, Position: position}
	t, err := c.prepare(ctx)
	if err != nil {
		s.Error = "prepare: " + err.Error()
		return s
	}
	b.settle(ctx)
	// Cleanup runs after an interrupt too, with a budget of its own.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		t.cleanup(cctx, s.OK)
	}()
	for i, st := range t.steps {
		logName := fmt.Sprintf("run%d-%s-%d-%s", run+1, slug(c.name), i+1, slug(st.name))
		m, err := b.timeStep(ctx, st, logName)
		s.Steps = append(s.Steps, StepSample{Name: st.name, Command: strings.Join(st.argv, " "), Measurement: m})
		if err != nil {
			s.Error = fmt.Sprintf("step %q (`%s`): %v", st.name, b.shortCommand(st.argv), err)
			return s
		}
	}
	s.Measurement = total(s.Steps)
	if t.check != nil {
		if err := t.check(ctx); err != nil {
			s.Error = "the job was not done: " + err.Error()
			return s
		}
	}
	if t.report != "" {
		s.Phases = readPhases(t.report)
	}
	s.OK = true
	return s
}

// total adds up a sequence of steps: wall and CPU time sum, the peak RSS
// is the largest step's.
func total(steps []StepSample) Measurement {
	var m Measurement
	for _, s := range steps {
		m.WallSeconds += s.WallSeconds
		m.UserSeconds += s.UserSeconds
		m.SysSeconds += s.SysSeconds
		m.MaxRSSKiB = max(m.MaxRSSKiB, s.MaxRSSKiB)
		m.ServerCPUSeconds += s.ServerCPUSeconds
	}
	return m
}

// timeStep runs one command under GNU time -v, in a process group of its
// own so that a timeout or Ctrl-C ends its children (pg_restore's
// workers) too. Its output goes to logDir.
func (b *bench) timeStep(ctx context.Context, st step, logName string) (Measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, b.stepTimeout)
	defer cancel()
	statsPath := filepath.Join(b.logDir, logName+".time")
	logPath := filepath.Join(b.logDir, logName+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return Measurement{}, err
	}
	defer logFile.Close()
	argv := b.clientArgv(append([]string{b.tools.time, "-v", "-o", statsPath}, st.argv...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = b.root
	cmd.Env = append(b.baseEnv(), st.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return killProcessGroup(cmd.Process) }
	cmd.WaitDelay = 10 * time.Second
	serverBefore := b.serverCPU()
	runErr := cmd.Run()
	serverCPU := b.serverCPU() - serverBefore
	data, _ := os.ReadFile(statsPath)
	m, parseErr := parseTimeV(string(data))
	m.ServerCPUSeconds = round2(serverCPU)
	output := func() string { out, _ := os.ReadFile(logPath); return tailLines(string(out), 8) }
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return m, fmt.Errorf("stopped after the step timeout of %s; output: %s", b.stepTimeout, output())
	case ctx.Err() != nil:
		return m, ctx.Err()
	case runErr != nil || m.ExitStatus != 0:
		return m, fmt.Errorf("%v (exit status %d); output: %s", runErr, m.ExitStatus, output())
	case parseErr != nil:
		return m, parseErr
	}
	return m, nil
}

// baseEnv is the harness's environment without the variables that would
// point a tool elsewhere: PG*, AWS_*, RCLONE_*, MXMIGRATE_* and MXTEST_* (every
// mxmigrate flag can come from one).
func (b *bench) baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "RCLONE_") || strings.HasPrefix(name, "MXMIGRATE_") || strings.HasPrefix(name, "MXTEST_") {
			continue
		}
		env = append(env, kv)
	}
	// Both sides use the same pg_restore.
	return append(env, pgserver.BinDirEnv+"="+b.tools.pgBin)
}

// readPhases reads the phases out of an mxmigrate --report file.
func readPhases(path string) []Phase {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var report struct {
		Phases []Phase `json:"phases"`
	}
	if json.Unmarshal(data, &report) != nil {
		return nil
	}
	return report.Phases
}

// shortCommand shows a command with the scratch folder elided.
func (b *bench) shortCommand(argv []string) string {
	return strings.ReplaceAll(strings.Join(argv, " "), b.scratchDir+"/", "")
}

// relative names path from the module root when it is inside it.
func (b *bench) relative(path string) string {
	if rel, err := filepath.Rel(b.root, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// slug turns a contender's name into a file name part.
func slug(s string) string {
	var out []rune
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			out = append(out, r)
		case len(out) > 0 && out[len(out)-1] != '-':
			out = append(out, '-')
		}
	}
	return strings.Trim(string(out), "-")
}

// uniqueName returns a fresh database or bucket name (lowercase, no
// underscore: valid for both).
func (b *bench) uniqueName(kind string) string {
	b.seq++
	return fmt.Sprintf("bench-%s-%d", kind, b.seq)
}

// scratch makes a fresh folder under the scratch area.
func (b *bench) scratch(kind string) (string, error) {
	return os.MkdirTemp(b.scratchDir, kind+"-")
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
