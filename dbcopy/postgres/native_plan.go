package postgres

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// action is what the native loader does with one kind of TOC entry, the
// way pg_restore --no-owner --no-privileges --no-tablespaces
// --no-subscriptions (without --create) treats it.
type action int

const (
	actSkip      action = iota // not restored: ACLs, the database itself, subscriptions
	actSession                 // ENCODING, STDSTRINGS, SEARCHPATH: every session's settings
	actSQL                     // execute the entry's definition
	actSchema                  // CREATE SCHEMA without AUTHORIZATION, skipped when it exists
	actComment                 // a COMMENT, except on an extension (only its owner may)
	actBlob                    // BLOB / BLOB METADATA: create the large objects
	actTableData               // COPY the entry's data
	actBlobData                // BLOBS: write the large objects' contents
	actWarning                 // WARNING: a message pg_dump left, logged
	actCount                   // not an entry: count a loaded table's rows for the verification
)

// entryActions lists every entry kind pg_dump 10 to 17 writes. A kind not
// here stops the load before anything is written: restoring it blindly
// could leave a target that differs from what pg_restore makes.
var entryActions = map[string]action{
	// The session's settings; restored by every connection's setup.
	"ENCODING": actSession, "STDSTRINGS": actSession, "SEARCHPATH": actSession,
	// --no-privileges, no --create, --no-subscriptions.
	"ACL": actSkip, "DEFAULT ACL": actSkip, "ACL LANGUAGE": actSkip,
	"DATABASE": actSkip, "DATABASE PROPERTIES": actSkip,
	"SUBSCRIPTION": actSkip, "SUBSCRIPTION TABLE": actSkip,
	"SCHEMA":  actSchema,
	"COMMENT": actComment,
	"BLOB":    actBlob, "BLOB METADATA": actBlob,
	"TABLE DATA": actTableData,
	"BLOBS":      actBlobData,
	"WARNING":    actWarning,
	// Definitions executed as they are.
	"EXTENSION": actSQL, "TYPE": actSQL, "SHELL TYPE": actSQL, "DOMAIN": actSQL,
	"FUNCTION": actSQL, "PROCEDURE": actSQL, "AGGREGATE": actSQL,
	"OPERATOR": actSQL, "OPERATOR CLASS": actSQL, "OPERATOR FAMILY": actSQL,
	"COLLATION": actSQL, "CONVERSION": actSQL, "CAST": actSQL, "TRANSFORM": actSQL,
	"PROCEDURAL LANGUAGE": actSQL, "ACCESS METHOD": actSQL,
	"TEXT SEARCH PARSER": actSQL, "TEXT SEARCH TEMPLATE": actSQL,
	"TEXT SEARCH DICTIONARY": actSQL, "TEXT SEARCH CONFIGURATION": actSQL,
	"FOREIGN DATA WRAPPER": actSQL, "SERVER": actSQL, "FOREIGN SERVER": actSQL,
	"USER MAPPING": actSQL, "FOREIGN TABLE": actSQL,
	"TABLE": actSQL, "TABLE ATTACH": actSQL, "VIEW": actSQL, "MATERIALIZED VIEW": actSQL,
	"SEQUENCE": actSQL, "SEQUENCE OWNED BY": actSQL, "SEQUENCE SET": actSQL,
	"DEFAULT": actSQL, "CHECK CONSTRAINT": actSQL, "CONSTRAINT": actSQL,
	"FK CONSTRAINT": actSQL, "INDEX": actSQL, "INDEX ATTACH": actSQL,
	"TRIGGER": actSQL, "EVENT TRIGGER": actSQL, "RULE": actSQL, "POLICY": actSQL,
	"ROW SECURITY": actSQL, "STATISTICS": actSQL, "MATERIALIZED VIEW DATA": actSQL,
	"PUBLICATION": actSQL, "PUBLICATION TABLE": actSQL, "PUBLICATION TABLES IN SCHEMA": actSQL,
	"SECURITY LABEL": actSQL,
}

// planEntry is one TOC entry the native loader restores.
type planEntry struct {
	e   *pgdump.Entry
	act action
}

// nativePlan is the archive's TOC sorted into what each phase runs.
type nativePlan struct {
	// preData runs serially in archive order: every pre-data entry and the
	// section-less entries (comments) that precede the first data entry,
	// as pg_restore's parallel mode does.
	preData []planEntry
	// rest runs in parallel, each entry once its dependencies are done.
	rest []planEntry
	// session is the SQL every connection runs first.
	session sessionSettings
}

// sessionSettings are what the archive's ENCODING, STDSTRINGS and
// SEARCHPATH entries say.
type sessionSettings struct {
	encoding     string
	stdStrings   bool
	searchPath   string // the SEARCHPATH entry's statement; "" in old archives
	hasStdString bool
}

var (
	encodingRe   = regexp.MustCompile(`^\s*SET client_encoding = '([A-Za-z0-9_]+)';\s*$`)
	stdStringsRe = regexp.MustCompile(`^\s*SET standard_conforming_strings = '(on|off)';\s*$`)
	searchPathRe = regexp.MustCompile(`^\s*SELECT pg_catalog\.set_config\('search_path', '[^']*', false\);\s*$`)
	blobCreateRe = regexp.MustCompile(`^\s*SELECT pg_catalog\.lo_create\('([0-9]+)'\);\s*$`)
)

// buildPlan sorts the archive's entries, refusing any kind it does not
// know and special entries it cannot read, before anything is written.
func buildPlan(a *pgdump.Archive) (*nativePlan, error) {
	p := &nativePlan{session: sessionSettings{encoding: "SQL_ASCII"}}
	skippedSome := false
	for i := range a.Entries {
		e := &a.Entries[i]
		act, known := entryActions[e.Desc]
		if !known {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf(
				"%s: the native loader does not know the entry kind %q; restore this backup with --loader pg_restore", e, e.Desc))
		}
		switch act {
		case actSkip:
			continue
		case actSession:
			if err := p.session.read(e); err != nil {
				return nil, err
			}
			continue
		case actBlob:
			if _, err := blobOIDs(e); err != nil {
				return nil, err
			}
		}
		pe := planEntry{e: e, act: act}
		switch {
		case e.Section == pgdump.SectionPreData:
			p.preData = append(p.preData, pe)
		case e.Section == pgdump.SectionNone && !skippedSome:
			p.preData = append(p.preData, pe)
		default:
			skippedSome = true
			p.rest = append(p.rest, pe)
		}
	}
	return p, nil
}

// read takes one special entry's setting, as pg_restore's
// processEncodingEntry, processStdStringsEntry and processSearchPathEntry do.
func (s *sessionSettings) read(e *pgdump.Entry) error {
	switch e.Desc {
	case "ENCODING":
		m := encodingRe.FindStringSubmatch(e.Defn)
		if m == nil {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: unexpected definition %q", e, e.Defn))
		}
		s.encoding = m[1]
	case "STDSTRINGS":
		m := stdStringsRe.FindStringSubmatch(e.Defn)
		if m == nil {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: unexpected definition %q", e, e.Defn))
		}
		s.stdStrings, s.hasStdString = m[1] == "on", true
	case "SEARCHPATH":
		if !searchPathRe.MatchString(e.Defn) {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: unexpected definition %q", e, e.Defn))
		}
		s.searchPath = strings.TrimSpace(e.Defn)
	}
	return nil
}

// sql is what a connection runs before its first entry, as pg_restore's
// _doSetFixedOutputState, plus the speed-ups doc.go lists. server is the
// target's server_version_num.
func (s sessionSettings) sql(server int, extra []string) string {
	var b strings.Builder
	set := func(stmt string) { b.WriteString(stmt); b.WriteString(";\n") }
	set("SET statement_timeout = 0")
	set("SET lock_timeout = 0")
	set("SET idle_in_transaction_session_timeout = 0")
	if server >= 140000 {
		set("SET idle_session_timeout = 0")
	}
	if server >= 170000 {
		set("SET transaction_timeout = 0")
	}
	set("SET client_encoding = " + quoteLiteral(s.encoding))
	set("SET standard_conforming_strings = " + map[bool]string{true: "on", false: "off"}[s.stdStrings])
	if s.searchPath != "" {
		b.WriteString(s.searchPath)
		b.WriteString("\n")
	}
	set("SET check_function_bodies = false")
	set("SET xmloption = content")
	set("SET client_min_messages = warning")
	if !s.stdStrings {
		set("SET escape_string_warning = off")
	}
	set("SET row_security = off")
	for _, x := range extra {
		set(x)
	}
	return b.String()
}

// blobOIDs are the large objects a BLOB (one lo_create statement) or BLOB
// METADATA (one OID a line) entry creates.
func blobOIDs(e *pgdump.Entry) ([]uint32, error) {
	var lines []string
	if e.Desc == "BLOB" {
		m := blobCreateRe.FindStringSubmatch(e.Defn)
		if m == nil {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: unexpected definition %q", e, e.Defn))
		}
		lines = []string{m[1]}
	} else {
		lines = strings.Fields(e.Defn)
	}
	oids := make([]uint32, 0, len(lines))
	for _, l := range lines {
		n, err := strconv.ParseUint(l, 10, 32)
		if err != nil {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %q is not a large object OID", e, l))
		}
		oids = append(oids, uint32(n))
	}
	return oids, nil
}

// qualifiedName is the entry's object as a quoted, schema-qualified name.
func qualifiedName(e *pgdump.Entry) string {
	if e.Namespace == "" {
		return quoteIdent(e.Tag)
	}
	return quoteIdent(e.Namespace) + "." + quoteIdent(e.Tag)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
