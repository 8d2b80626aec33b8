package bolt

import "hubtriage/store"

// item is what the file holds for one dedup key (see store.Item).
type item = store.Item
