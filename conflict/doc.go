// Package conflict owns the version that every stored item and tombstone
// carries, the total order over versions, and the last-writer-wins rule that
// decides between two versions of the same item.
//
// The package is pure: it does no I/O and never reads the wall clock. The
// hybrid logical clock (HLC) that mints versions takes its time source as a
// function, so tests and the lab's clock-skew experiments can inject one.
//
// Invariants:
//   - Versions are totally ordered by (Wall, Logical, Region). The region name
//     is the tie-break: two regions that mint the same (Wall, Logical) order the
//     same way everywhere, so every replica picks the same winner.
//   - Resolve is commutative, associative and idempotent, so replicas that see
//     the same set of changes in any order, with duplicates, converge.
//   - A delete is a version like any other (a tombstone) and follows the same
//     rule: a late, older put never resurrects a deleted item.
//   - HLC.Next(v) is greater than v, whatever the wall clocks say. This is
//     what makes a write that replaces another win. An unbounded HLC never
//     goes backwards; a bounded one (SetMaxAhead, the topology's
//     max_clock_skew) ignores observed versions beyond the bound and steps
//     back to physical time when its floor is beyond it, so one wrong clock
//     cannot carry every region into the future (docs/replication.md,
//     "Bounded clock").
package conflict
