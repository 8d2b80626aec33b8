package asffgen_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"hubtriage/asff/asffgen"
)

var update = flag.Bool("update", false, "rewrite testdata/ golden files")

// TestGoldenSample pins the generator's output for seed 1: any change to the
// generated events shows up as a diff of testdata/events-seed1.ndjson (rerun
// with -update to accept it). Other packages may use the file as a small
// realistic input.
func TestGoldenSample(t *testing.T) {
	var got bytes.Buffer
	if err := asffgen.New(1, asffgen.Options{}).WriteNDJSON(&got, 100); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "events-seed1.ndjson")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("generated events differ from %s; rerun with -update if the change is intended", path)
	}
}
