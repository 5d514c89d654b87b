package typemap

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"bigint", "bigint", ""},
		{"  INT ", "int", ""},
		{"tinyint", "tinyint", ""},
		{"decimal", "decimal(18,0)", ""},
		{"decimal(38, 10)", "decimal(38,10)", ""},
		{"NUMERIC(5)", "numeric(5,0)", ""},
		{"decimal(39,2)", "", "precision must be 1 to 38"},
		{"decimal(10,11)", "", "scale must be 0 to the precision"},
		{"nvarchar(MAX)", "nvarchar(max)", ""},
		{"nvarchar(4000)", "nvarchar(4000)", ""},
		{"nvarchar(4001)", "", "length must be 1 to 4000 or max"},
		{"nvarchar", "", "give a length"},
		{"nchar(max)", "", "length must be 1 to 4000"},
		{"varchar(8000)", "varchar(8000)", ""},
		{"varbinary(max)", "varbinary(max)", ""},
		{"binary(16)", "binary(16)", ""},
		{"datetime2", "datetime2(7)", ""},
		{"datetime2(3)", "datetime2(3)", ""},
		{"datetime2(8)", "", "scale must be 0 to 7"},
		{"datetimeoffset(6)", "datetimeoffset(6)", ""},
		{"time(0)", "time(0)", ""},
		{"uniqueidentifier", "uniqueidentifier", ""},
		{"bit(1)", "", "takes no modifiers"},
		{"float", "float", ""},
		{"real", "real", ""},
		{"datetime", "", "unknown or unsupported"},
		{"xml", "", "unknown or unsupported"},
		{"decimal(10", "", "missing )"},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: got %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got.String(), err, tc.want)
		}
	}
}

func TestTargetProperties(t *testing.T) {
	tests := []struct {
		in            string
		isMax, isText bool
	}{
		{"nvarchar(max)", true, true},
		{"nvarchar(10)", false, true},
		{"nchar(1)", false, true},
		{"varbinary(max)", true, false},
		{"bigint", false, false},
	}
	for _, tc := range tests {
		tg, err := ParseTarget(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if tg.IsMax() != tc.isMax || tg.IsText() != tc.isText {
			t.Errorf("%s: IsMax %v IsText %v", tc.in, tg.IsMax(), tg.IsText())
		}
	}
}
