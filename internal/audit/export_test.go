package audit

// LegacySum is the unkeyed SHA-256 chain: what an attacker with only the
// database can compute.
func LegacySum(e Entry) string { return e.legacySum() }
