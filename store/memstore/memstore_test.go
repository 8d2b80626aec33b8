package memstore_test

import (
	"testing"

	"hubtriage/internal/storetest"
	"hubtriage/store"
	"hubtriage/store/memstore"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}
