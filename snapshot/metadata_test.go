package snapshot

import (
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Metadata
		wantErr string
	}{
		{name: "as Mendix writes it, all strings", in: mendixMeta, want: mendixMetaParsed},
		{
			name: "numbers instead of strings",
			in:   `{"duration":0,"dumpSize":94769,"modelVersion":"1.0.0.40","databaseSize":9730584,"filesSize":1346575}`,
			want: mendixMetaParsed,
		},
		{
			name: "unknown keys are kept",
			in:   `{"modelVersion":"1","dumpSize":"1","databaseSize":"2","filesSize":"3","region":"eu-west","count":5,"nested":{"a":1}}`,
			want: Metadata{ModelVersion: "1", DumpSize: 1, DatabaseSize: 2, FilesSize: 3,
				Extra: map[string]string{"region": "eu-west", "count": "5", "nested": `{"a":1}`}},
		},
		{
			name: "missing keys are listed",
			in:   `{"modelVersion":"1.0.0.40","databaseSize":"9730584"}`,
			want: Metadata{ModelVersion: "1.0.0.40", DatabaseSize: 9730584, Missing: []string{"dumpSize", "filesSize"}},
		},
		{
			name: "null and empty values count as missing",
			in:   `{"modelVersion":null,"dumpSize":"","databaseSize":"5","filesSize":"6"}`,
			want: Metadata{DatabaseSize: 5, FilesSize: 6, Missing: []string{"modelVersion", "dumpSize"}},
		},
		{
			name: "empty object",
			in:   `{}`,
			want: Metadata{Missing: []string{"modelVersion", "dumpSize", "databaseSize", "filesSize"}},
		},
		{name: "non-numeric size", in: `{"dumpSize":"94 kB"}`, wantErr: `metadata key "dumpSize": "94 kB" is not a whole number of bytes`},
		{name: "fractional size", in: `{"filesSize":1.5}`, wantErr: `metadata key "filesSize": "1.5" is not a whole number of bytes`},
		{name: "negative size", in: `{"databaseSize":"-1"}`, wantErr: `metadata key "databaseSize": -1 is negative`},
		{name: "size beyond int64", in: `{"dumpSize":"99999999999999999999"}`, wantErr: `metadata key "dumpSize"`},
		{name: "boolean model version", in: `{"modelVersion":true}`, wantErr: `metadata key "modelVersion": value true is not a string or a number`},
		{name: "array", in: `[1,2]`, wantErr: "metadata is not a JSON object"},
		{name: "null document", in: `null`, wantErr: "metadata is not a JSON object"},
		{name: "empty file", in: ``, wantErr: "metadata is not a JSON object"},
		{name: "truncated JSON", in: `{"dumpSize":"1"`, wantErr: "metadata is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetadata([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMetadata(%s) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMetadata(%s): %v", tt.in, err)
			}
			if !metadataEqual(got, tt.want) {
				t.Errorf("ParseMetadata(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
