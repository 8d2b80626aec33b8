package memindex

import (
	"testing"

	"hubtriage/store"
	"hubtriage/store/memstore"
	"hubtriage/store/storetest"
)

// combo is a store.Store whose Index is a memindex (the Dedup half comes
// from memstore), so the contract suite can judge the index.
type combo struct {
	store.Dedup
	*Index
}

func (combo) Close() error { return nil }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return combo{memstore.New(), New()} })
}
