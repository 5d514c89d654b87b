package sqlserver

import "strings"

// quoteIdent bracket-quotes a SQL Server identifier: "a]b" -> "[a]]b]".
func quoteIdent(name string) string {
	return "[" + strings.ReplaceAll(name, "]", "]]") + "]"
}

// qualified is schema.name, both quoted.
func qualified(schema, name string) string {
	return quoteIdent(schema) + "." + quoteIdent(name)
}

// quoteString is a Unicode string literal: N'it”s'.
func quoteString(s string) string {
	return "N'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteList quotes and joins column names.
func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quoteIdent(n)
	}
	return strings.Join(quoted, ", ")
}
