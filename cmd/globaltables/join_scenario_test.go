//go:build scenario

package main

import "testing"

// The findings of issue 7 at the sizes they were found at: a replica copy
// of 50,000 items killed, one of 20,000 stopped cleanly, and backfills of
// 20,000 items killed in either region. Each takes minutes.

func TestScenario_JoinSIGKILLDuringCopyOf50000Resumes(t *testing.T) {
	testJoinInterrupted(t, 50000, 256, sigkill)
}

func TestScenario_JoinSIGTERMDuringCopyOf20000Resumes(t *testing.T) {
	testJoinInterrupted(t, 20000, 128, sigterm)
}

func TestScenario_BackfillSIGKILLInOriginOf20000Resumes(t *testing.T) {
	testBackfillInterrupted(t, 20000, 2000, "us-east-1", sigkill)
}

func TestScenario_BackfillSIGKILLInApplyingRegionOf20000Resumes(t *testing.T) {
	testBackfillInterrupted(t, 20000, 2000, "eu-west-1", sigkill)
}
