package main

import (
	"errors"
	"slices"
)

// median is the middle value (the mean of the two middle ones for an even
// count); it is robust to one run disturbed by a neighbour's job.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// pairRatios divides baseline[i] by candidate[i] for each run i where both
// succeeded: pairs taken within the same run see the same machine load,
// which a ratio of two medians would not.
func pairRatios(baseline, candidate []float64, ok []bool) ([]float64, error) {
	if len(baseline) != len(candidate) || len(ok) != len(baseline) {
		return nil, errors.New("pairRatios: runs of different lengths")
	}
	var ratios []float64
	for i := range baseline {
		if ok[i] && candidate[i] > 0 {
			ratios = append(ratios, baseline[i]/candidate[i])
		}
	}
	return ratios, nil
}

// runOrder says in which order the contenders of a group run in run number
// run: as listed in even runs, reversed in odd ones, so that neither side
// always inherits the other's warm cache or leftover disk writes.
func runOrder(n, run int) []int {
	order := make([]int, n)
	for i := range order {
		if run%2 == 0 {
			order[i] = i
		} else {
			order[i] = n - 1 - i
		}
	}
	return order
}
