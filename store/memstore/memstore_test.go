package memstore_test

import (
	"testing"

	"hubtriage/store"
	"hubtriage/store/memstore"
	"hubtriage/internal/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}
