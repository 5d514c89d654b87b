package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Results is one benchmark run, written as JSON and as Markdown.
type Results struct {
	Started    time.Time      `json:"started"`
	Size       string         `json:"size"`
	Runs       int            `json:"runs"`
	Machine    Machine        `json:"machine"`
	Dataset    datasetFacts   `json:"dataset"`
	Conditions []string       `json:"conditions"`
	Notes      []string       `json:"notes,omitempty"`
	Groups     []GroupResult  `json:"groups"`
	Verify     *Throughput    `json:"verify,omitempty"`
	Profile    *ProfileResult `json:"profile,omitempty"`
}

// GroupResult is one comparison: mxmigrate first, then the baselines.
type GroupResult struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Layout is "shared" or "pinned" (layout.go).
	Layout      string            `json:"layout,omitempty"`
	Contenders  []ContenderResult `json:"contenders"`
	Comparisons []Comparison      `json:"comparisons"`
	Claims      []ClaimResult     `json:"claims,omitempty"`
}

// ContenderResult is every run of one way of doing the job.
type ContenderResult struct {
	Name      string   `json:"name"`
	Command   string   `json:"command"`
	Mxmigrate bool     `json:"mxmigrate"`
	Samples   []Sample `json:"samples"`
	Median    Summary  `json:"median"`
}

// Sample is one run of a contender: its steps' measurements added up
// (wall and CPU summed, peak RSS the largest).
type Sample struct {
	Run int `json:"run"`
	// Position is 1 when this contender ran first in its group that run.
	Position int    `json:"position"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Measurement
	Steps []StepSample `json:"steps"`
	// Phases come from mxmigrate's --report.
	Phases []Phase `json:"phases,omitempty"`
}

// StepSample is one timed command.
type StepSample struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Measurement
}

// Phase is one of mxmigrate's own timed phases.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Summary holds the medians over the runs that succeeded.
type Summary struct {
	OKRuns      int     `json:"okRuns"`
	WallSeconds float64 `json:"wallSeconds"`
	CPUSeconds  float64 `json:"cpuSeconds"`
	MaxRSSMiB   float64 `json:"maxRssMiB"`
	// ServerCPUSeconds is the servers' CPU while the command ran.
	ServerCPUSeconds float64 `json:"serverCpuSeconds"`
}

// Comparison is mxmigrate against one baseline: each speedup is the
// baseline's wall time over mxmigrate's within the same run.
type Comparison struct {
	Baseline      string    `json:"baseline"`
	Speedups      []float64 `json:"speedups"`
	MedianSpeedup float64   `json:"medianSpeedup"`
}

// ClaimResult is one of the targets the benchmark checks, checked.
type ClaimResult struct {
	Claim    string `json:"claim"`
	Measured string `json:"measured"`
	// Met is nil when the claim could not be measured.
	Met *bool `json:"met"`
}

// Throughput is mxmigrate verify's speed.
type Throughput struct {
	Rows               int64   `json:"rows"`
	TableDataBytes     int64   `json:"tableDataBytes"`
	ArchiveBytes       int64   `json:"archiveBytes"`
	WallSeconds        float64 `json:"wallSeconds"`
	RowsPerSecond      float64 `json:"rowsPerSecond"`
	TableMBPerSecond   float64 `json:"tableMBPerSecond"`
	ArchiveMBPerSecond float64 `json:"archiveMBPerSecond"`
}

// ProfileResult names the profiles of one extra, untimed mxmigrate run.
type ProfileResult struct {
	Command    string `json:"command"`
	Why        string `json:"why"`
	CPUProfile string `json:"cpuProfile"`
	MemProfile string `json:"memProfile"`
	CPUTop     string `json:"cpuTop,omitempty"`
	MemTop     string `json:"memTop,omitempty"`
	Error      string `json:"error,omitempty"`
}

// summarise takes the medians over the samples that succeeded.
func summarise(samples []Sample) Summary {
	var wall, cpu, rss, server []float64
	for _, s := range samples {
		if !s.OK {
			continue
		}
		wall = append(wall, s.WallSeconds)
		cpu = append(cpu, s.CPUSeconds())
		rss = append(rss, s.MaxRSSMiB())
		server = append(server, s.ServerCPUSeconds)
	}
	return Summary{OKRuns: len(wall), WallSeconds: median(wall), CPUSeconds: median(cpu), MaxRSSMiB: median(rss), ServerCPUSeconds: median(server)}
}

// compare pairs mxmigrate's samples with a baseline's, run by run.
func compare(mx, baseline ContenderResult) Comparison {
	var mxWall, baseWall []float64
	var ok []bool
	for i := range min(len(mx.Samples), len(baseline.Samples)) {
		mxWall = append(mxWall, mx.Samples[i].WallSeconds)
		baseWall = append(baseWall, baseline.Samples[i].WallSeconds)
		ok = append(ok, mx.Samples[i].OK && baseline.Samples[i].OK)
	}
	speedups, _ := pairRatios(baseWall, mxWall, ok)
	return Comparison{Baseline: baseline.Name, Speedups: speedups, MedianSpeedup: median(speedups)}
}

// writeResults writes latest.json and latest.md under dir: the one copy
// of the newest results (git keeps the earlier ones), which the README's
// figures must match. The results record when they were taken.
func writeResults(dir string, r *Results) (mdPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	mdPath = filepath.Join(dir, "latest.md")
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(data, '\n'), 0o644); err != nil {
		return "", err
	}
	return mdPath, os.WriteFile(mdPath, []byte(renderMarkdown(r)), 0o644)
}

// renderMarkdown lays the results out for people: claims first, then one
// table per comparison, then what the numbers do not show.
func renderMarkdown(r *Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# mxmigrate benchmark: %s backup, %d run(s), %s\n\n", r.Size, r.Runs, r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	p("Each figure is the median over the runs that succeeded. A speedup is the baseline's wall time divided by mxmigrate's, taken pair by pair within the same run (the order alternates between runs), then the median of those ratios: above 1 means mxmigrate was faster.\n\n")

	var claims []ClaimResult
	for _, g := range r.Groups {
		claims = append(claims, g.Claims...)
	}
	if len(claims) > 0 {
		p("## Claims\n\n| claim | measured | met |\n|---|---|---|\n")
		for _, c := range claims {
			p("| %s | %s | %s |\n", c.Claim, c.Measured, yesNo(c.Met))
		}
		p("\n")
	}

	for _, g := range r.Groups {
		p("## %s\n\n", g.Title)
		p("| contender | wall s | CPU user+sys s | servers' CPU s | peak RSS MiB | ok runs | mxmigrate speedup (per run) |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, c := range g.Contenders {
			speed := "—"
			for _, cmp := range g.Comparisons {
				if cmp.Baseline == c.Name {
					speed = formatSpeedup(cmp)
				}
			}
			name := c.Name
			if c.Mxmigrate {
				name = "**" + name + "**"
			}
			p("| %s | %s | %s | %s | %s | %d/%d | %s |\n", name, num(c.Median.WallSeconds, c.Median.OKRuns), num(c.Median.CPUSeconds, c.Median.OKRuns),
				num(c.Median.ServerCPUSeconds, c.Median.OKRuns), num(c.Median.MaxRSSMiB, c.Median.OKRuns), c.Median.OKRuns, len(c.Samples), speed)
		}
		p("\n")
		for _, c := range g.Contenders {
			p("- %s: `%s`\n", c.Name, c.Command)
			if phases := medianPhases(c.Samples); phases != "" {
				p("  - mxmigrate's phases (median s): %s\n", phases)
			}
			if steps := medianSteps(c.Samples); steps != "" {
				p("  - steps (median wall s): %s\n", steps)
			}
		}
		p("\n")
	}

	if t := r.Verify; t != nil {
		p("## Verification throughput (`mxmigrate verify --checksums`)\n\n")
		p("| rows | table data | backup | wall s | rows/s | table data MB/s | backup MB/s |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		p("| %d | %s | %s | %.1f | %.0f | %.1f | %.1f |\n\n", t.Rows, mb(t.TableDataBytes), mb(t.ArchiveBytes), t.WallSeconds, t.RowsPerSecond, t.TableMBPerSecond, t.ArchiveMBPerSecond)
		p("Table data is what PostgreSQL stores for the tables (heap and TOAST, no indexes); MB is 10^6 bytes.\n\n")
	}

	if failures := failureLines(r); len(failures) > 0 {
		p("## Failures\n\n")
		for _, f := range failures {
			p("- %s\n", f)
		}
		p("\n")
	}

	if pr := r.Profile; pr != nil {
		p("## Profile of `%s`\n\n%s\n\n", pr.Command, pr.Why)
		if pr.Error != "" {
			p("Profiling failed: %s\n\n", pr.Error)
		} else {
			p("CPU: `%s`, memory (allocations): `%s`; open with `go tool pprof bin/mxmigrate FILE`.\n\n", pr.CPUProfile, pr.MemProfile)
			if pr.CPUTop != "" {
				p("```\n%s\n```\n\n", strings.TrimSpace(pr.CPUTop))
			}
			if pr.MemTop != "" {
				p("```\n%s\n```\n\n", strings.TrimSpace(pr.MemTop))
			}
		}
	}

	d := r.Dataset
	p("## Backup\n\n| | |\n|---|---|\n")
	p("| file | `%s` (%s, gzip level %d) |\n", d.File, mb(d.ArchiveBytes), d.Preset.GzipLevel)
	p("| database | %d tables, %d rows (largest table %d), dump %s, table data %s, indexes %s |\n",
		d.Tables, d.Rows, d.LargestTableRows, mb(d.DumpBytes), mb(d.TableDataBytes), mb(d.IndexBytes))
	p("| files | %d blobs, %s (smallest %d B, median %d B, largest %s) |\n\n", d.Blobs, mb(d.BlobBytes), d.BlobMinBytes, d.BlobMedianBytes, mb(d.BlobMaxBytes))

	m := r.Machine
	p("## Machine\n\n| | |\n|---|---|\n")
	for _, row := range m.rows() {
		p("| %s | %s |\n", row[0], row[1])
	}
	p("\n## Conditions\n\n")
	for _, c := range r.Conditions {
		p("- %s\n", c)
	}
	for _, n := range r.Notes {
		p("- %s\n", n)
	}
	return b.String()
}

func formatSpeedup(c Comparison) string {
	if len(c.Speedups) == 0 {
		return "n/a"
	}
	parts := make([]string, len(c.Speedups))
	for i, s := range c.Speedups {
		parts[i] = fmt.Sprintf("%.2f", s)
	}
	return fmt.Sprintf("%.2fx (%s)", c.MedianSpeedup, strings.Join(parts, ", "))
}

// medianPhases lists mxmigrate's own phases in the order it reported them.
func medianPhases(samples []Sample) string {
	var names []string
	seconds := map[string][]float64{}
	for _, s := range samples {
		if !s.OK {
			continue
		}
		for _, ph := range s.Phases {
			if _, ok := seconds[ph.Name]; !ok {
				names = append(names, ph.Name)
			}
			seconds[ph.Name] = append(seconds[ph.Name], ph.Seconds)
		}
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.1f", n, median(seconds[n]))
	}
	return strings.Join(parts, ", ")
}

// medianSteps lists a multi-step contender's steps; one step says nothing
// the table does not.
func medianSteps(samples []Sample) string {
	var names []string
	wall := map[string][]float64{}
	for _, s := range samples {
		if !s.OK || len(s.Steps) < 2 {
			continue
		}
		for _, st := range s.Steps {
			if _, ok := wall[st.Name]; !ok {
				names = append(names, st.Name)
			}
			wall[st.Name] = append(wall[st.Name], st.WallSeconds)
		}
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.1f", n, median(wall[n]))
	}
	return strings.Join(parts, ", ")
}

func failureLines(r *Results) []string {
	var out []string
	for _, g := range r.Groups {
		for _, c := range g.Contenders {
			for _, s := range c.Samples {
				if !s.OK {
					out = append(out, fmt.Sprintf("%s, run %d: %s", c.Name, s.Run, strings.ReplaceAll(s.Error, "\n", " ⏎ ")))
				}
			}
		}
	}
	return out
}

func num(v float64, okRuns int) string {
	if okRuns == 0 {
		return "failed"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func mb(bytes int64) string {
	if bytes == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(bytes)/1e6)
}

func yesNo(met *bool) string {
	switch {
	case met == nil:
		return "not measured"
	case *met:
		return "yes"
	default:
		return "**no**"
	}
}
