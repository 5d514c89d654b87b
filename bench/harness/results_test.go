package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixtureResults() *Results {
	ok := func(wall float64, rssMiB int64, phases ...Phase) Sample {
		return Sample{Run: 1, OK: true, Measurement: Measurement{WallSeconds: wall, UserSeconds: wall / 2, MaxRSSKiB: rssMiB << 10, ServerCPUSeconds: wall * 1.5}, Phases: phases}
	}
	met := true
	db := GroupResult{
		Name: "db", Title: "Database to PostgreSQL",
		Contenders: []ContenderResult{
			{Name: "mxmigrate db --jobs 2", Mxmigrate: true, Command: "mxmigrate db BACKUP", Samples: []Sample{ok(105, 90, Phase{"restore database", 100}, Phase{"verify database", 4})}},
			{Name: "pg_restore -j 2", Command: "pg_restore -j 2 db.backup", Samples: []Sample{ok(100, 12)}},
			{Name: "pgloader", Command: "pgloader a b", Samples: []Sample{{Run: 1, Error: "step \"pgloader\": heap exhausted"}}},
		},
	}
	evaluate(&db, groupSpec{})
	db.Claims = []ClaimResult{{Claim: "within 1.10x", Measured: "1.05x", Met: &met}, {Claim: "not measurable", Measured: "no run"}}
	return &Results{
		Started: time.Date(2026, 11, 22, 3, 4, 0, 0, time.UTC), Size: "small", Runs: 1,
		Machine:    Machine{CPUModel: "Test CPU", CPUs: 2, MemoryGiB: "24.0"},
		Dataset:    datasetFacts{File: "mendix-small.tar.gz", Tables: 19, Rows: 45112, ArchiveBytes: 3_000_000},
		Conditions: []string{"Warm page cache."},
		Groups:     []GroupResult{db},
		Verify: &Throughput{Rows: 45112, TableDataBytes: 6_400_000, ArchiveBytes: 3_000_000, WallSeconds: 0.5,
			RowsPerSecond: 90224, TableMBPerSecond: 12.8, ArchiveMBPerSecond: 6},
	}
}

func TestRenderMarkdown(t *testing.T) {
	md := renderMarkdown(fixtureResults())
	for _, want := range []string{
		"# mxmigrate benchmark: small backup, 1 run(s), 2026-11-22 03:04 UTC",
		"| within 1.10x | 1.05x | yes |",
		"| not measurable | no run | not measured |",
		"| **mxmigrate db --jobs 2** | 105 | 52.5 | 158 | 90.0 | 1/1 | — |",
		"| pg_restore -j 2 | 100 | 50.0 | 150 | 12.0 | 1/1 | 0.95x (0.95) |",
		"| pgloader | failed | failed | failed | failed | 0/1 | n/a |",
		"mxmigrate's phases (median s): restore database 100.0, verify database 4.0",
		"- pgloader, run 1: step \"pgloader\": heap exhausted",
		"| 45112 | 6.4 MB | 3.0 MB | 0.5 | 90224 | 12.8 | 6.0 |",
		"| CPU | Test CPU, 2 cores |",
		"- Warm page cache.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestWriteResults(t *testing.T) {
	dir := t.TempDir()
	r := fixtureResults()
	md, err := writeResults(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(md) != "latest.md" {
		t.Errorf("markdown written to %s", md)
	}
	// One copy: latest.* and nothing else.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "latest.json latest.md" {
		t.Errorf("results folder holds %q, want latest.json and latest.md only", names)
	}
	data, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Groups[0].Contenders[0].Samples[0].MaxRSSKiB != 90<<10 || back.Groups[0].Comparisons[0].MedianSpeedup == 0 {
		t.Errorf("JSON lost figures: %+v", back.Groups[0])
	}
}
