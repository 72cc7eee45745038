package cases

import (
	"context"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/db"
)

// refCache is this node's copy of the category tree and of the
// categories' attributes. Every report needs its category and the
// category's questions; reading them from the database took about a
// tenth of the intake's work. A change made on this node drops the copy
// when it commits; another node's change reaches this one when the copy
// expires, within refCacheFor.
//
// The copy is only read and filled outside transactions: a transaction
// may see categories it created and could still roll back.
type refCache struct {
	mu         sync.Mutex
	loaded     time.Time
	categories map[string]Category // by code
	attributes map[int64][]Attribute
}

// refCacheFor is how long a copy answers before it is read again.
const refCacheFor = 5 * time.Second

// drop forgets the copy; the next read loads a fresh one.
func (c *refCache) drop() {
	c.mu.Lock()
	c.loaded = time.Time{}
	c.mu.Unlock()
}

// dropAfterCommit forgets the copy once the write of ctx has committed.
func (s *Service) dropRefsAfterCommit(ctx context.Context) {
	db.AfterCommit(ctx, s.refs.drop)
}

// currentRefs returns a fresh enough copy, loading it when it is stale,
// or ok=false inside a transaction, where the caller reads the database.
func (s *Service) currentRefs(ctx context.Context) (cats map[string]Category, attrs map[int64][]Attribute, ok bool, err error) {
	if db.InTx(ctx) {
		return nil, nil, false, nil
	}
	c := s.refs
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.loaded) < refCacheFor {
		return c.categories, c.attributes, true, nil
	}
	list, err := s.store.categories(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	attrs, err = s.store.attributesByCategory(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	c.categories = make(map[string]Category, len(list))
	for _, k := range list {
		c.categories[k.Code] = k
	}
	c.attributes = attrs
	c.loaded = time.Now()
	return c.categories, c.attributes, true, nil
}
