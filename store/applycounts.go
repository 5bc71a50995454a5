package store

import (
	"sort"
	"sync"
)

// ApplyCount is what Apply did with one source region's changes to one
// table since the store was opened: how many replaced the local row
// (Applied) and how many were concurrent with it (Conflicts, whichever
// won). It feeds the per-table replication metrics; ApplyStats stays the
// per-call total.
type ApplyCount struct {
	Source, Table      string
	Applied, Conflicts uint64
}

// applyCounts accumulates ApplyCounts in memory. They restart from zero
// with the process, as Prometheus counters may.
type applyCounts struct {
	mu sync.Mutex // guards m
	m  map[[2]string]*ApplyCount
}

// add folds one committed transaction's counts in.
func (c *applyCounts) add(source string, tables []tableApplyCount) {
	if len(tables) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]*ApplyCount{}
	}
	for _, t := range tables {
		k := [2]string{source, t.table}
		e := c.m[k]
		if e == nil {
			e = &ApplyCount{Source: source, Table: t.table}
			c.m[k] = e
		}
		e.Applied += t.applied
		e.Conflicts += t.conflicts
	}
}

// ApplyCounts returns the counts by source and table, sorted, since the
// store was opened.
func (db *DB) ApplyCounts() []ApplyCount {
	c := &db.applied
	c.mu.Lock()
	out := make([]ApplyCount, 0, len(c.m))
	for _, e := range c.m {
		out = append(out, *e)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Table < out[j].Table
	})
	return out
}

// tableApplyCount is one transaction's counts for one table; a transaction
// touches few tables, so a slice searched linearly beats a map.
type tableApplyCount struct {
	table              string
	applied, conflicts uint64
}

// countApply notes one change of table: applied, concurrent, or both.
func countApply(counts []tableApplyCount, table string, applied, conflict bool) []tableApplyCount {
	if !applied && !conflict {
		return counts
	}
	i := len(counts) - 1
	for ; i >= 0 && counts[i].table != table; i-- {
	}
	if i < 0 {
		counts = append(counts, tableApplyCount{table: table})
		i = len(counts) - 1
	}
	if applied {
		counts[i].applied++
	}
	if conflict {
		counts[i].conflicts++
	}
	return counts
}
