package dbcopy

// Identified is a Target that can say who it signs in as: the kind of
// login or cloud identity and its name, never a secret.
type Identified interface {
	Identity() string
}

// IdentityOf is t's sign-in identity, or "" when the target does not say.
func IdentityOf(t Target) string {
	if i, ok := t.(Identified); ok {
		return i.Identity()
	}
	return ""
}
