// Command gen-payloads writes payloads_gen.go and the copies of the contract files under
// contracts/ from packages/contracts (run by `go generate` in packages/sdk-go).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/arc-voice/arc/sdk-go/internal/gen"
)

func main() {
	contracts := flag.String("contracts", "../contracts", "packages/contracts directory (schemas/ and vectors/)")
	out := flag.String("out", ".", "module root of the Go SDK")
	flag.Parse()
	if err := run(*contracts, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen-payloads:", err)
		os.Exit(1)
	}
}

func run(contracts, out string) error {
	files, err := gen.Generate(contracts)
	if err != nil {
		return err
	}
	// Schema files removed upstream disappear here too.
	old, _ := filepath.Glob(filepath.Join(out, gen.SchemasDir, "*"))
	for _, path := range old {
		rel, _ := filepath.Rel(out, path)
		if _, keep := files[filepath.ToSlash(rel)]; !keep {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	for rel, data := range files {
		path := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gen-payloads: wrote %d files from %s\n", len(files), contracts)
	return nil
}
