package snapshot

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Paths inside a full snapshot, after any leading "./".
const (
	metadataEntry = ".metadata"
	dumpEntry     = "db/db.backup"
	treePrefix    = "tree/"
)

// entryType is what an entry is, whether it comes from a tar header or a
// directory listing.
type entryType int

const (
	typeRegular entryType = iota
	typeDir
	typeSymlink
	typeHardlink
	typeDevice
	typeFifo
	typeArchiveHeader // tar bookkeeping such as a pax global header: no content of the backup
	typeOther
)

// entry is one item of a backup, named as it is stored there.
type entry struct {
	name string
	typ  entryType
	link string // link target, for symlinks and hard links
	kind string // a description of the type, for typeOther
	size int64
	// sparse: a tar entry stored as a sparse map; size is what it expands
	// to, however few bytes the archive holds.
	sparse bool
}

// role is what the walk does with an entry.
type role int

const (
	roleIgnore role = iota
	roleAnomaly
	roleMetadata
	roleDump
	roleBlob
	roleLinkedBlob // a hard link whose name is a blob's: its bytes are the target's
)

type placement struct {
	role    role
	uuid    string // roleBlob, roleLinkedBlob
	problem string // roleAnomaly; for a blob, why its place is odd (it still moves)
}

func anomalyPlacement(problem string) placement {
	return placement{role: roleAnomaly, problem: problem}
}

// place decides from an entry's name and type alone what it is. Unsafe
// names and link or device types are refused before the layout is looked
// at, so nothing hostile is ever opened.
func place(e entry) placement {
	name := trimDotSlash(e.name)
	if problem := unsafePath(name); problem != "" {
		return anomalyPlacement(problem)
	}
	switch e.typ {
	case typeSymlink:
		return anomalyPlacement(fmt.Sprintf("symbolic link to %q; not followed", e.link))
	case typeHardlink:
		// GNU tar stores a file whose inode it has already written as a
		// link to that earlier entry: a blob's bytes, to be found there.
		if p := placeFile(name); p.role == roleBlob && unsafePath(trimDotSlash(e.link)) == "" {
			p.role = roleLinkedBlob
			return p
		}
		return anomalyPlacement(fmt.Sprintf("hard link to %q; skipped", e.link))
	case typeDevice:
		return anomalyPlacement("device file; skipped")
	case typeFifo:
		return anomalyPlacement("named pipe (FIFO); skipped")
	case typeOther:
		return anomalyPlacement(fmt.Sprintf("unsupported entry type (%s); skipped", e.kind))
	case typeArchiveHeader:
		return placement{role: roleIgnore}
	case typeDir:
		return placeDir(strings.TrimSuffix(name, "/"))
	}
	return placeFile(name)
}

func trimDotSlash(name string) string {
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	return name
}

// unsafePath names what is wrong with a path that could escape the backup
// if someone extracted it, or "" when it is safe.
func unsafePath(name string) string {
	if strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) ||
		(len(name) >= 2 && name[1] == ':' && isLetter(name[0])) {
		return "absolute path; skipped"
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return `path contains ".."; skipped`
		}
	}
	return ""
}

// placeDir accepts the directories of the layout quietly. Only an unknown
// top-level directory is reported: the files inside any unknown directory
// are reported one by one anyway.
func placeDir(name string) placement {
	if name == "" || name == "." {
		return placement{role: roleIgnore}
	}
	top, _, nested := strings.Cut(name, "/")
	if nested || top == "db" || top == "tree" {
		return placement{role: roleIgnore}
	}
	return anomalyPlacement("unexpected directory, ignored")
}

func placeFile(name string) placement {
	switch {
	case name == metadataEntry:
		return placement{role: roleMetadata}
	case name == dumpEntry:
		return placement{role: roleDump}
	case strings.HasPrefix(name, treePrefix):
		return placeBlob(strings.TrimPrefix(name, treePrefix))
	}
	return anomalyPlacement("unexpected entry, ignored")
}

// placeBlob checks rel, the path below tree/, against xx/yy/<uuid> where xx
// and yy are the UUID's first four characters. A file named by a UUID in
// another folder of tree/ still holds that blob's bytes: it moves under its
// UUID, with the odd place named, so that "missing in the backup" means
// that no entry holds the bytes.
func placeBlob(rel string) placement {
	parts := strings.Split(rel, "/")
	id := parts[len(parts)-1]
	if !ValidUUID(id) {
		if len(parts) != 3 {
			return anomalyPlacement("not at tree/xx/yy/<uuid>; not uploaded")
		}
		return anomalyPlacement("name is not a UUID; not uploaded")
	}
	want := "tree/" + id[0:2] + "/" + id[2:4] + "/"
	if len(parts) != 3 {
		return placement{role: roleBlob, uuid: id, problem: "not at tree/xx/yy/<uuid> but named by a UUID; uploaded under it (it belongs at " + want + ")"}
	}
	if xx, yy := parts[0], parts[1]; xx != id[0:2] || yy != id[2:4] {
		return placement{role: roleBlob, uuid: id, problem: fmt.Sprintf("stored under tree/%s/%s/ but belongs under %s; uploaded under its UUID", xx, yy, want)}
	}
	return placement{role: roleBlob, uuid: id}
}

// ValidUUID reports whether s is a UUID in the 8-4-4-4-12 hexadecimal form
// that Mendix uses for blob names.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// uuidKey packs a valid UUID into 16 bytes, so remembering every blob seen
// costs little and upper and lower case spellings count as the same UUID.
func uuidKey(s string) [16]byte {
	var key [16]byte
	_, _ = hex.Decode(key[:], []byte(strings.ReplaceAll(s, "-", "")))
	return key
}
