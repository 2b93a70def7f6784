// Package role names what a signed-in person may do. Roles are ordered:
// a viewer reads, an agent also edits and creates customers, a lead also
// requests and approves erasures, imports, exports and reads the audit log.
package role

// Role is one of Viewer, Agent or Lead. The zero value is no role.
type Role string

// The roles, from least to most privileged.
const (
	Viewer Role = "viewer"
	Agent  Role = "agent"
	Lead   Role = "lead"
)

// All lists the roles from least to most privileged.
func All() []Role { return []Role{Viewer, Agent, Lead} }

// Parse reads a role name; ok is false for anything but the three names.
func Parse(s string) (Role, bool) {
	switch r := Role(s); r {
	case Viewer, Agent, Lead:
		return r, true
	}
	return "", false
}

// Rank orders roles: viewer 1, agent 2, lead 3, anything else 0.
func (r Role) Rank() int {
	switch r {
	case Viewer:
		return 1
	case Agent:
		return 2
	case Lead:
		return 3
	}
	return 0
}

// AtLeast reports whether r is a role and ranks at least min.
func (r Role) AtLeast(min Role) bool { return r.Rank() > 0 && r.Rank() >= min.Rank() }

// String returns the role's name.
func (r Role) String() string { return string(r) }
