package main

import (
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		in := slices.Clone(c.in)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("median reordered its input: %v", c.in)
		}
	}
}

func TestPairRatiosSkipsFailedPairs(t *testing.T) {
	got, err := pairRatios([]float64{10, 20, 30}, []float64{5, 0, 10}, []bool{true, true, false})
	if err != nil {
		t.Fatal(err)
	}
	// Run 2 has a zero time and run 3 failed: only run 1 counts.
	if !slices.Equal(got, []float64{2}) {
		t.Fatalf("got %v", got)
	}
	if _, err := pairRatios([]float64{1}, []float64{1, 2}, []bool{true}); err == nil {
		t.Fatal("runs of different lengths accepted")
	}
}

func TestRunOrderAlternates(t *testing.T) {
	if got := runOrder(3, 0); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("run 0: %v", got)
	}
	if got := runOrder(3, 1); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("run 1: %v", got)
	}
	if got := runOrder(3, 2); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("run 2: %v", got)
	}
}

func TestCompareTakesRatiosWithinEachRun(t *testing.T) {
	mx := ContenderResult{Samples: []Sample{
		{OK: true, Measurement: Measurement{WallSeconds: 10}},
		{OK: true, Measurement: Measurement{WallSeconds: 20}}, // a disturbed run: both sides slow
		{OK: false},
	}}
	base := ContenderResult{Name: "rclone", Samples: []Sample{
		{OK: true, Measurement: Measurement{WallSeconds: 15}},
		{OK: true, Measurement: Measurement{WallSeconds: 30}},
		{OK: true, Measurement: Measurement{WallSeconds: 1}},
	}}
	c := compare(mx, base)
	if !slices.Equal(c.Speedups, []float64{1.5, 1.5}) || c.MedianSpeedup != 1.5 {
		t.Fatalf("got %+v", c)
	}
}

func TestEvaluateClaims(t *testing.T) {
	sample := func(wall float64, rssKiB int64) Sample {
		return Sample{OK: true, Measurement: Measurement{WallSeconds: wall, MaxRSSKiB: rssKiB}}
	}
	g := GroupResult{Contenders: []ContenderResult{
		{Name: "mxmigrate files", Mxmigrate: true, Samples: []Sample{sample(10, 100<<10), sample(10, 210<<10)}},
		{Name: "rclone", Samples: []Sample{sample(14, 50<<10), sample(15, 50<<10)}},
	}}
	spec := groupSpec{
		speed: []speedClaim{
			{baseline: "rclone", minSpeedup: 1.3, text: "at least 1.3x faster"},
			{baseline: "rclone", maxTimeRatio: 0.5, text: "in half the time"},
			{baseline: "pgloader", minSpeedup: 1, text: "faster than a contender that did not run"},
		},
		memory: &memoryClaim{maxMiB: 200, text: "under 200 MiB"},
	}
	evaluate(&g, spec)
	if len(g.Claims) != 4 {
		t.Fatalf("claims: %+v", g.Claims)
	}
	// Speedups 1.4 and 1.5.
	if c := g.Claims[0]; c.Met == nil || !*c.Met {
		t.Errorf("speedup claim: %+v", c)
	}
	if c := g.Claims[1]; c.Met == nil || *c.Met {
		t.Errorf("time ratio claim: %+v", c)
	}
	if c := g.Claims[2]; c.Met != nil {
		t.Errorf("a claim with no runs to measure: %+v", c)
	}
	// The memory claim holds for the largest run, not the median.
	if c := g.Claims[3]; c.Met == nil || *c.Met {
		t.Errorf("memory claim: %+v", c)
	}
	if g.Contenders[0].Median.WallSeconds != 10 || g.Contenders[0].Median.OKRuns != 2 {
		t.Errorf("median: %+v", g.Contenders[0].Median)
	}
}
