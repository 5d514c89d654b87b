package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLogSplit(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	at := func(s float64, msg string) logLine {
		return logLine{Time: t0.Add(time.Duration(s * float64(time.Second))), Msg: msg}
	}
	phases := []Phase{{"connect and lock", 1}, {"extract dump", 0}, {"preflight", 3}, {"restore database", 10}, {"verify database", 2}}
	tests := []struct {
		name  string
		lines []logLine
		want  map[string]float64
		err   string
	}{
		{"direct", []logLine{at(0, "signing in"), at(4, "preflight collation"), at(6, "copied table"), at(9, "copied table"), at(15, "verify")},
			map[string]float64{phaseCopy: 5, phaseKeys: 5}, ""},
		{"keys beside the copy", []logLine{at(0, "signing in"), at(4, "preflight collation"), at(6, "copied table"), at(13.5, "copied table"),
			{Time: t0.Add(14 * time.Second), Msg: "built keys and indexes", Seconds: 6.25}},
			map[string]float64{phaseCopy: 9.5, phaseKeys: 0.5, phaseBuilds: 6.25}, ""},
		{"staging", []logLine{at(0, "signing in"), at(1, "restoring the backup into the staging PostgreSQL"), at(3.5, "checked unique keys"),
			at(4, "preflight collation"), at(7, "copied table"), at(12, "copied table")},
			map[string]float64{phaseStaging: 2.5, phaseCopy: 8, phaseKeys: 2}, ""},
		{"no copy", []logLine{at(0, "signing in"), at(4, "preflight collation")}, nil, `no "copied table"`},
		{"no lines", nil, nil, "no JSON log lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := logSplit(tc.lines, phases)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, p := range got {
				if w, ok := tc.want[p.Name]; !ok || math.Abs(p.Seconds-w) > 1e-9 {
					t.Errorf("phase %s: %.3f s, want %.3f", p.Name, p.Seconds, w)
				}
			}
		})
	}
}
