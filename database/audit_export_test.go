package database

// SetAuditOff turns auditing off or on for s: only the benchmark that
// measures what auditing costs does this.
func SetAuditOff(s *Store, off bool) { s.Audit.off = off }
