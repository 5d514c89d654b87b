package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestWholeVersusParts(t *testing.T) {
	sample := func(wall float64, ok bool) Sample { return Sample{OK: ok, Measurement: Measurement{WallSeconds: wall}} }
	group := func(name string, samples ...Sample) GroupResult {
		return GroupResult{Name: name, Contenders: []ContenderResult{{Mxmigrate: true, Samples: samples}}}
	}
	pinned := layout{name: layoutPinned, serverCPUs: "0", clientCPUs: "1"}
	tests := []struct {
		name     string
		groups   []GroupResult
		measured string
		met      *bool
		noClaim  bool
	}{
		{
			name: "met: per run against the slower part",
			groups: []GroupResult{
				group("db", sample(20, true), sample(30, true), sample(20, true)),
				group("files", sample(70, true), sample(20, true), sample(75, true)),
				group("migrate", sample(74, true), sample(36, true), sample(78, true)),
			},
			// 74/70 = 1.057, 36/30 = 1.2, 78/75 = 1.04: the median is 1.057.
			measured: "1.06x (per run: 1.06, 1.20, 1.04; needs at most 1.10x)", met: ptr(true),
		},
		{
			name: "not met",
			groups: []GroupResult{
				group("db", sample(20, true)), group("files", sample(70, true)), group("migrate", sample(120, true)),
			},
			measured: "1.71x (per run: 1.71; needs at most 1.10x)", met: ptr(false),
		},
		{
			name: "a failed run is left out",
			groups: []GroupResult{
				group("db", sample(20, true), sample(20, true)), group("files", sample(70, false), sample(70, true)),
				group("migrate", sample(10, true), sample(140, true)),
			},
			measured: "2.00x (per run: 2.00; needs at most 1.10x)", met: ptr(false),
		},
		{
			name: "no run where all three succeeded",
			groups: []GroupResult{
				group("db", sample(20, false)), group("files", sample(70, true)), group("migrate", sample(72, true)),
			},
			measured: "no run in which all three succeeded",
		},
		{
			name:    "files not run: no claim",
			groups:  []GroupResult{group("db", sample(20, true)), group("migrate", sample(72, true))},
			noClaim: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wholeVersusParts(tc.groups, pinned)
			var migrate *GroupResult
			for i := range tc.groups {
				if tc.groups[i].Name == "migrate" {
					migrate = &tc.groups[i]
				}
			}
			if tc.noClaim {
				if len(migrate.Claims) != 0 {
					t.Fatalf("claims %+v, want none", migrate.Claims)
				}
				return
			}
			if len(migrate.Claims) != 1 {
				t.Fatalf("claims %+v, want one", migrate.Claims)
			}
			c := migrate.Claims[0]
			if !strings.HasPrefix(c.Claim, "[pinned] ") {
				t.Errorf("claim %q does not name its layout", c.Claim)
			}
			if c.Measured != tc.measured {
				t.Errorf("measured %q, want %q", c.Measured, tc.measured)
			}
			if (c.Met == nil) != (tc.met == nil) || (c.Met != nil && *c.Met != *tc.met) {
				t.Errorf("met %v, want %v", c.Met, tc.met)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

func TestLayoutsFromEnv(t *testing.T) {
	canPin := runtime.GOOS == "linux" && runtime.NumCPU() >= 2 && lookPath("taskset") != ""
	tests := []struct {
		env     string
		want    []string // when pinning is possible
		wantErr bool
	}{
		{env: "", want: []string{layoutShared, layoutPinned}},
		{env: "both", want: []string{layoutShared, layoutPinned}},
		{env: "shared", want: []string{layoutShared}},
		{env: "pinned", want: []string{layoutPinned}},
		{env: "sideways", wantErr: true},
	}
	for _, tc := range tests {
		t.Run("BENCH_LAYOUT="+tc.env, func(t *testing.T) {
			t.Setenv("BENCH_LAYOUT", tc.env)
			layouts, notes, err := layoutsFromEnv()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "BENCH_LAYOUT="+tc.env) {
					t.Fatalf("error %v, want one naming BENCH_LAYOUT=%s", err, tc.env)
				}
				return
			}
			if !canPin {
				// The pinned layout is left out with a note (or, alone, refused).
				if tc.env == layoutPinned {
					if err == nil {
						t.Fatal("pinned without taskset/Linux/two CPUs: no error")
					}
					return
				}
				if err != nil || len(notes) == 0 && len(tc.want) > 1 {
					t.Fatalf("layouts %v, notes %v, err %v", layouts, notes, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range layouts {
				got = append(got, l.name)
				if l.name == layoutPinned && (l.serverCPUs == "" || l.clientCPUs == "" || l.serverCPUs == l.clientCPUs) {
					t.Errorf("pinned layout %+v does not split the CPUs", l)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("layouts %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientArgvPinsOnlyInThePinnedLayout(t *testing.T) {
	b := &bench{}
	argv := []string{"/usr/bin/time", "-v", "mxmigrate", "db"}
	if got := b.clientArgv(argv); strings.Join(got, " ") != strings.Join(argv, " ") {
		t.Errorf("shared layout: %v", got)
	}
	b.layout = layout{name: layoutPinned, serverCPUs: "0", clientCPUs: "1"}
	if got := strings.Join(b.clientArgv(argv), " "); got != "taskset -c 1 /usr/bin/time -v mxmigrate db" {
		t.Errorf("pinned layout: %s", got)
	}
}
