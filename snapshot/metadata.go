package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Metadata is the backup's .metadata file. Mendix writes every value as a
// JSON string; the sizes are converted to numbers here.
type Metadata struct {
	ModelVersion string `json:"modelVersion"`
	DumpSize     int64  `json:"dumpSize"`
	DatabaseSize int64  `json:"databaseSize"`
	FilesSize    int64  `json:"filesSize"`
	Duration     string `json:"duration,omitempty"`
	// Extra keeps keys this version does not know, so a report can show them.
	Extra map[string]string `json:"extra,omitempty"`
	// Missing lists expected keys (modelVersion, dumpSize, databaseSize,
	// filesSize) that are absent, null or empty.
	Missing []string `json:"missing,omitempty"`
}

// expectedMetadataKeys are the keys Mendix writes, in report order.
var expectedMetadataKeys = []string{"modelVersion", "dumpSize", "databaseSize", "filesSize"}

// ParseMetadata parses a .metadata file. Values may be JSON strings (as
// Mendix writes them) or JSON numbers. A size that is not a whole,
// non-negative number is an error naming the key; a missing key is not an
// error but is listed in Missing.
func ParseMetadata(data []byte) (Metadata, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Metadata{}, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	if raw == nil {
		return Metadata{}, fmt.Errorf("metadata is not a JSON object: got null")
	}
	var m Metadata
	present := map[string]bool{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys) // so that the first bad key reported is always the same one
	for _, key := range keys {
		text, isScalar, isNull := metadataValue(raw[key])
		if !slices.Contains(expectedMetadataKeys, key) && key != "duration" {
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[key] = text
			continue
		}
		if !isScalar {
			return Metadata{}, fmt.Errorf("metadata key %q: value %s is not a string or a number", key, text)
		}
		if isNull || text == "" {
			continue
		}
		present[key] = true
		switch key {
		case "modelVersion":
			m.ModelVersion = text
		case "duration":
			m.Duration = text
		default:
			n, err := parseSize(key, text)
			if err != nil {
				return Metadata{}, err
			}
			setSize(&m, key, n)
		}
	}
	for _, key := range expectedMetadataKeys {
		if !present[key] {
			m.Missing = append(m.Missing, key)
		}
	}
	return m, nil
}

// metadataValue returns a value's text: a string's content, a number's
// literal, or for anything else the raw JSON (isScalar false).
func metadataValue(raw json.RawMessage) (text string, isScalar, isNull bool) {
	trimmed := bytes.TrimSpace(raw)
	if string(trimmed) == "null" {
		return "", true, true
	}
	var s string
	if json.Unmarshal(trimmed, &s) == nil {
		return s, true, false
	}
	var n json.Number
	if json.Unmarshal(trimmed, &n) == nil {
		return n.String(), true, false
	}
	return string(trimmed), false, false
}

func parseSize(key, text string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("metadata key %q: %q is not a whole number of bytes", key, text)
	}
	if n < 0 {
		return 0, fmt.Errorf("metadata key %q: %d is negative, expected a number of bytes", key, n)
	}
	return n, nil
}

func setSize(m *Metadata, key string, n int64) {
	switch key {
	case "dumpSize":
		m.DumpSize = n
	case "databaseSize":
		m.DatabaseSize = n
	case "filesSize":
		m.FilesSize = n
	}
}
