// Package drill runs failover drills: a workload through a topology of
// regions while a timeline of faults (kill, restart, partition, heal, slow
// links, skewed clocks) plays out, ending in a verdict.
//
// A drill is an HCL file (see File). The package owns the timeline, the
// per-phase accounting and the verdict; the workload and its analysis belong
// to package experiment, and the processes and links to whoever implements
// Lab (the globaltables command, with region processes it supervises).
//
// The verdict's invariant: a drill passes only if every acknowledged write is
// present in every region or was overwritten by a write with a greater
// version, and every region holds the same content. A write whose outcome the
// client never learned (it failed in a region that died) is counted, not
// judged.
package drill
