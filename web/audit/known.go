package audit

// Choice is one option of a filter list: the value matched and its label.
type Choice struct{ Value, Label string }

// KnownActions are the actions the console records, for the action filter.
// A value ending in "." selects every action under it. When a new action
// is recorded anywhere in the console it is added here.
var KnownActions = []Choice{
	{"access.denied", "Access denied"},
	{"signin", "Signed in"},
	{"signout", "Signed out"},
	{"enduser.", "Every customer change"},
	{"enduser.created", "Customer created"},
	{"enduser.updated", "Customer updated"},
	{"customattributes.updated", "Custom attributes updated"},
	{"conversation.viewed", "Conversation viewed"},
	{"endusers.exported", "Customers exported"},
	{"import.", "Every import step"},
	{"import.uploaded", "Import uploaded (dry run)"},
	{"import.started", "Import started"},
	{"import.resumed", "Import resumed"},
	{"import.paused", "Import paused"},
	{"import.cancelled", "Import cancelled"},
	{"import.done", "Import finished"},
	{"import.failed", "Import stopped"},
	{"erasure.", "Every erasure step"},
	{"erasure.handed_over", "Erasure handed to leads"},
	{"erasure.requested", "Erasure requested"},
	{"erasure.denied", "Erasure refused (role)"},
	{"erasure.approved", "Erasure approved"},
	{"erasure.rejected", "Erasure rejected"},
	{"erasure.submitted", "Erasure sent to Dixa"},
	{"erasure.blocked", "Erasure blocked"},
	{"erasure.processed", "Erasure processed"},
	{"erasure.verified", "Erasure verified"},
	{"erasure.failed", "Erasure failed"},
	{"erasure.extended", "Erasure deadline extended"},
	{"erasure.reconciled", "Erasure reconciled"},
	{"erasure.scrubbed", "Erasure scrubbed local copies"},
}

// KnownTargetTypes are the target types the console records, for the
// target type filter.
var KnownTargetTypes = []Choice{
	{"enduser", "Customer"},
	{"erasure", "Erasure request"},
	{"job", "Import"},
	{"endusers", "Customer export"},
	{"conversation", "Conversation"},
	{"session", "Session"},
	{"route", "Page or action"},
}

// Known reports whether v is the value of one of cs.
func Known(cs []Choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}
