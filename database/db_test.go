package database_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"healthcare/database"
)

// TestSQLitePathWithURICharacters: a "#" or "?" in the embedded database's
// path opens that very file (a file: URI would otherwise end the path
// there, and two directories named "a#1" and "a#2" would share "a").
func TestSQLitePathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, sub := range []string{"a#1", "a#2", "b?c", "d%41"} {
		path := filepath.Join(dir, sub, "hc.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := database.Open(ctx, database.Config{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE marker (x INTEGER)"); err != nil {
			t.Fatalf("%s: %v (another path's database was opened)", sub, err)
		}
		db.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s: the file was not created where asked: %v", sub, err)
		}
	}
}
