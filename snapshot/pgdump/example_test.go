package pgdump_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// Count the rows of every table straight from the dump's data, reading it
// as a stream (as from inside a backup's tar.gz).
func ExampleArchive_CountAllRows() {
	f, err := os.Open("testdata/mendix-gzip.backup")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := io.Reader(f)
	a, err := pgdump.ReadTOC(r)
	if err != nil {
		log.Fatal(err)
	}
	counts, err := a.CountAllRows(context.Background(), r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("archive", a.Header.Version(), "needs pg_restore", a.Header.MinRestoreMajor(), "or newer")
	var lines []string
	for id, n := range counts {
		e, _ := a.Lookup(id)
		lines = append(lines, fmt.Sprintf("%s.%s: %d rows", e.Namespace, e.Tag, n))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// archive 1.14 needs pg_restore 12 or newer
	// public.mendixsystem$version: 1 rows
	// public.myfirstmodule$empty: 0 rows
	// public.myfirstmodule$order: 5 rows
	// public.system$filedocument: 3 rows
}

// Decode one table's rows with random access to the archive file.
func ExampleArchiveFile_OpenData() {
	f, err := pgdump.Open("testdata/mendix-gzip.backup")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.Desc != "TABLE DATA" || e.Tag != "mendixsystem$version" {
			continue
		}
		cols, err := e.CopyColumns()
		if err != nil {
			log.Fatal(err)
		}
		data, err := f.OpenData(context.Background(), e)
		if err != nil {
			log.Fatal(err)
		}
		defer data.Close()
		rows := pgdump.NewCopyReader(data)
		for {
			fields, err := rows.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Fatal(err)
			}
			for i, field := range fields {
				if field.Null {
					fmt.Printf("%s: NULL\n", cols[i])
				} else {
					fmt.Printf("%s: %s\n", cols[i], field.Value)
				}
			}
		}
	}
	// Output:
	// versionnumber: 10.6.1
	// lastsyncdate: 2024-01-02 03:04:05.123456
	// preanalysismigrationversionnumber: NULL
}
