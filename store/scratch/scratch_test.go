package scratch_test

import (
	"testing"

	"hubtriage/internal/storetest"
	"hubtriage/store"
	"hubtriage/store/memstore"
	"hubtriage/store/scratch"
)

// TestContract runs the store contract suite against a scratch layer over
// an empty store.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return scratch.New(memstore.New(), nil) })
}
