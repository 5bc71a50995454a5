package store

// SyncRounds returns how many group-commit sync rounds db has run.
func SyncRounds(db *DB) int64 {
	if db.group == nil {
		return 0
	}
	return db.group.rounds.Load()
}
