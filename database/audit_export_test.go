package database

import "time"

// SetAuditOff turns auditing off or on for s: only the benchmark that
// measures what auditing costs does this.
func SetAuditOff(s *Store, off bool) { s.Audit.off = off }

// SetSealGrace replaces sealGrace for s, so tests need not wait for it.
func SetSealGrace(s *Store, d time.Duration) { s.Audit.grace = d }
