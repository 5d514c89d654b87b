package blobsync

// Identified is a Store that can say how it signs in: the kind of
// credential and whose it is, never a key, secret or token.
type Identified interface {
	Identity() string
}

// IdentityOf is how s signs in, for logs, reports and plans; "" when the
// store does not say. It looks through WithRetry.
func IdentityOf(s Store) string {
	s, _ = unwrapRetry(s)
	if i, ok := s.(Identified); ok {
		return i.Identity()
	}
	return ""
}
