package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/example/dixa-console/web/store"
)

// headList collects repeated -head flags.
type headList []store.Head

func (h *headList) String() string { return fmt.Sprint(*h) }

func (h *headList) Set(s string) error {
	v, err := store.ParseHead(s)
	if err != nil {
		return err
	}
	*h = append(*h, v)
	return nil
}

// verify checks the audit log's hash chain in the database that
// DATA_DIR / DATABASE_URL (or -data-dir / -database-url) name, opened
// read-only:
//
//	console verify [-head seq:hash]...
//
// Each -head is a head printed by an earlier run (kept outside the
// database); it must still be in the chain, which also catches entries cut
// off the end. It prints the current head to keep for the next run, and
// fails (exit 1) on any changed, deleted, inserted or reordered entry, and
// on a missing database or an empty log.
func verify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	get := defineSettings(fs, getenv, "DATA_DIR", "DATABASE_URL")
	var heads headList
	fs.Var(&heads, "head", "a head `seq:hash` recorded earlier that must still be in the chain (repeatable)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments: %q", fs.Args())
	}
	dataDir, dbURL := get("DATA_DIR"), get("DATABASE_URL")
	if dataDir == "" {
		return usageErr("DATA_DIR: must not be empty")
	}
	if dbURL != "" && !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return usageErr("DATABASE_URL: want a postgres:// URL")
	}
	// Read-only: checking must never create, migrate or change the
	// database it checks, and a missing one is a failure, not a new log.
	db, err := store.OpenReadOnly(ctx, dataDir, dbURL)
	if err != nil {
		return storeErr(err)
	}
	defer db.Close()
	res, err := db.Verify(ctx, heads...)
	if err != nil {
		return err
	}
	if res.Entries == 0 {
		return fmt.Errorf("audit log verification FAILED: the audit log is empty (is DATA_DIR or DATABASE_URL the console's database?)")
	}
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintln(stderr, "audit log:", p)
		}
		return fmt.Errorf("audit log verification FAILED: %d problem(s) in %d entries", len(res.Problems), res.Entries)
	}
	fmt.Fprintf(stdout, "audit log OK: %d entries; head %s\n", res.Entries, res.Head)
	return nil
}
