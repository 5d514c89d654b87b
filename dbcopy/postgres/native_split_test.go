package postgres

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestSplitStreamCutsAtRowBoundaries feeds COPY text through a split
// stream read by several readers at once: every reader must get whole
// rows only, and together all rows exactly once, whatever the chunk size.
func TestSplitStreamCutsAtRowBoundaries(t *testing.T) {
	long := strings.Repeat("x", 300) // longer than the smaller chunks
	var rows []string
	for i := range 500 {
		switch {
		case i%97 == 0:
			rows = append(rows, long+strings.Repeat("y", i))
		case i%13 == 0:
			rows = append(rows, "") // an empty row (one empty text column)
		default:
			rows = append(rows, strings.Repeat("ab\\n\\t", i%9)+"\t"+string(rune('a'+i%26)))
		}
	}
	text := strings.Join(rows, "\n") + "\n"
	cases := []struct {
		name      string
		text      string
		chunk     int
		readers   int
		wantLines int
	}{
		{"small chunks, rows longer than a chunk", text, 64, 3, len(rows)},
		{"chunk of one byte", text, 1, 2, len(rows)},
		{"one big chunk", text, 1 << 20, 4, len(rows)},
		{"last row without its newline", strings.TrimSuffix(text, "\n"), 100, 3, len(rows)},
		{"empty", "", 64, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSplitStream(context.Background(), tc.chunk, tc.readers)
			go func() { _ = s.produce(strings.NewReader(tc.text)) }()
			var mu sync.Mutex
			var got []string
			var wg sync.WaitGroup
			for range tc.readers {
				wg.Go(func() {
					r := &partReader{s: s}
					defer r.close()
					var b bytes.Buffer
					if _, err := io.Copy(&b, onlyReader{r}); err != nil {
						t.Error(err)
						return
					}
					part := b.String()
					lastRow := tc.text[strings.LastIndexByte(tc.text, '\n')+1:]
					if part != "" && !strings.HasSuffix(part, "\n") && (lastRow == "" || !strings.HasSuffix(part, lastRow)) {
						t.Errorf("a reader got a part that does not end at a row boundary: %q", part[max(0, len(part)-20):])
					}
					if part == "" {
						return // this reader came too late: no rows
					}
					mu.Lock()
					got = append(got, strings.Split(strings.TrimSuffix(part, "\n"), "\n")...)
					mu.Unlock()
				})
			}
			wg.Wait()
			want := append([]string(nil), rows[:tc.wantLines]...)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("readers got %d rows, want %d, or different ones", len(got), len(want))
			}
		})
	}
}

// onlyReader hides io.WriterTo and friends, so that io.Copy calls Read
// with its own buffers as pgconn does.
type onlyReader struct{ io.Reader }

func TestIndexBuildIsAloneOnlyWithoutOtherWork(t *testing.T) {
	const table = 7
	free := &schedItem{locks: []lockReq{{table: table + 1}}}
	blocked := &schedItem{locks: []lockReq{{table: table}}}
	tests := []struct {
		name   string
		busy   int
		ready  []*schedItem
		splits int
		alone  bool
	}{
		{name: "the only task, nothing ready", busy: 1, alone: true},
		{name: "another connection busy", busy: 2},
		{name: "an item ready for an idle connection", busy: 1, ready: []*schedItem{free}},
		{name: "only an item waiting for the table the task holds", busy: 1, ready: []*schedItem{blocked}, alone: true},
		{name: "a split table being copied", busy: 1, splits: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The running task holds the table alone (ADD CONSTRAINT).
			s := &scheduler{busy: tc.busy, ready: tc.ready, splits: make([]*activeSplit, tc.splits), locks: map[int]int{table: -1}}
			if got := s.alone(); got != tc.alone {
				t.Errorf("alone() = %v, want %v", got, tc.alone)
			}
		})
	}
}
