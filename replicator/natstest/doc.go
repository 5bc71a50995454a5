// Package natstest holds test helpers for code that runs against a real,
// in-process NATS server: start and restart servers on a test's temporary
// folders, connect clients that reconnect quickly, and wait for a condition
// with a deadline instead of sleeping; collect what replication logs
// (LogBuffer).
//
// It is for tests only: servers it starts are shut down, and clients it
// connects closed, when the test ends.
package natstest
