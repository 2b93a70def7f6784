package dixasim

import (
	"fmt"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// Agents and tags of the demo organisation. They are fixed whatever the
// seed's user count: agent ids are derived from the seed like the
// definitions', so the first twelve keep the ids the simulator has always
// used for assignees.

// deletedAgents is the number of agents that have left: old conversations
// still name them as assignee or note author, but GET /agents/{id} answers
// 404 and the list does not include them (see Sim.DeletedAgentIDs).
const deletedAgents = 3

// agentSpec is one agent of the directory.
type agentSpec struct {
	first, last string
	middle      []string
	roles       []string // nil means Agent
	phone       string
	extraEmail  string
	avatar      bool
	display     string // "" means first + " " + last
	email       string // "" means first.last@ (folded)
}

// agentSpecs is the directory: an international support team, its leads
// and admins, the bot and a few awkward names.
var agentSpecs = []agentSpec{
	{first: "Mette", last: "Kjærgaard", roles: []string{apiclient.AgentRoleAdmin, apiclient.AgentRoleTeamLead}, phone: "+4530112233", avatar: true},
	{first: "Jonas", last: "Friis", avatar: true},
	{first: "Sofie", last: "Lindberg", phone: "+4530223344"},
	{first: "Ahmed", last: "Khalil", avatar: true},
	{first: "Emma", last: "Schultz", roles: []string{apiclient.AgentRoleTeamLead}},
	{first: "Lukas", last: "Becker"},
	{first: "Camille", last: "Durand", avatar: true},
	{first: "Oskar", last: "Nyström", middle: []string{"Erik"}},
	{first: "Aleksandra", last: "Wiśniewska"},
	{first: "Mikkel", last: "Holm", phone: "+4530334455"},
	{first: "Freja", last: "Dahl", avatar: true},
	{first: "Yusuf", last: "Demir"},
	{first: "Ingrid", last: "Bakke"},
	{first: "Lucía", last: "Navarro", avatar: true},
	{first: "Thomas", last: "Winther", roles: []string{apiclient.AgentRoleAdmin}},
	{first: "Anna", last: "Kowalczyk"},
	{first: "Kenji", last: "Watanabe", display: "渡辺 健二", avatar: true},
	{first: "Laila", last: "Haddad", display: "ليلى حداد"},
	{first: "Nikolaos", last: "Papadakis", display: "Νικόλαος Παπαδάκης"},
	{first: "Priya", last: "Sharma", avatar: true},
	{first: "Rasmus", last: "Vestergaard", roles: []string{apiclient.AgentRoleTeamLead}, phone: "+4530445566"},
	{first: "Julie", last: "Brandt"},
	{first: "Sebastian", last: "Krüger"},
	{first: "Chloé", last: "Lefèvre"},
	{first: "Matteo", last: "Rossi", avatar: true},
	{first: "Sanne", last: "de Vries"},
	{first: "Olivia", last: "Hughes", extraEmail: "olivia.hughes@nordlys-uk.example"},
	{first: "Daniel", last: "Okafor"},
	{first: "Wei", last: "Zhang", display: "张伟"},
	{first: "Astrid", last: "Mortensen", middle: []string{"Marie"}},
	{first: "Henrik", last: "Lund", roles: []string{apiclient.AgentRoleAdmin}},
	{first: "Maja", last: "Eklund"},
	{first: "Felix", last: "Wagner"},
	{first: "Nora", last: "Sørensen", avatar: true},
	{first: "Elif", last: "Yıldız"},
	{first: "Tobias", last: "Berg", phone: "+4530556677"},
	{first: "Ida", last: "Poulsen"},
	{first: "Marco", last: "Bianchi"},
	{first: "Hanna", last: "Nowak"},
	{first: "Simon", last: "Thorsen", extraEmail: "simon@nordlys-b2b.example"},
	{first: "Zara", last: "Ali"},
	// Awkward names, as agents type them into Dixa.
	{first: "Eve", last: "Tester", display: `<img src=x onerror=alert('agent')>`, email: "eve.tester@nordlys-shop.example"},
	{first: "Mallory", last: "Override", display: "Mallory \u202Eedirrevo\u202C Override", email: "mallory@nordlys-shop.example"},
	{first: "Bo", last: "Ek", display: "Bo"},
	// The bot that writes automated chat messages.
	{first: "Nordlys", last: "Assistent", display: "Nordlys Assistent 🤖", email: "bot@nordlys-shop.example"},
}

// botAgent is the index in agentSpecs of the bot.
var botAgent = len(agentSpecs) - 1

// agentDirectory seeds the agents: agentSpecs, then the API token's owner
// (an admin); and sets g.agents to the assignees: every human agent plus
// the deleted ones.
func (g *gen) agentDirectory() {
	g.st.bot = g.fixedID(fmt.Sprintf("agent/%d", botAgent))
	for i, s := range agentSpecs {
		a := &wireAgent{
			ID:                     g.fixedID(fmt.Sprintf("agent/%d", i)),
			CreatedAt:              apiclient.Time{Time: refDate.AddDate(-4, 0, 0).Add(time.Duration(i*317) * time.Hour)},
			DisplayName:            s.display,
			Email:                  s.email,
			PhoneNumber:            s.phone,
			FirstName:              s.first,
			LastName:               s.last,
			AdditionalEmails:       []string{},
			AdditionalPhoneNumbers: []string{},
			MiddleNames:            cloneStrings(s.middle),
			Roles:                  []string{apiclient.AgentRoleAgent},
		}
		if a.DisplayName == "" {
			a.DisplayName = strings.Join(append(append([]string{s.first}, s.middle...), s.last), " ")
		}
		if a.Email == "" {
			a.Email = emailPart(s.first, danishFold) + "." + emailPart(s.last, danishFold) + "@nordlys-shop.example"
		}
		if s.roles != nil {
			a.Roles = cloneStrings(s.roles)
		}
		if s.extraEmail != "" {
			a.AdditionalEmails = []string{s.extraEmail}
		}
		if s.avatar {
			a.AvatarURL = "https://files.dixa.example/public/avatar/" + a.ID
		}
		g.st.addAgent(a)
		if i != botAgent {
			g.agents = append(g.agents, a.ID)
		}
	}
	g.st.addAgent(&wireAgent{
		ID: TokenOwnerID, CreatedAt: apiclient.Time{Time: refDate.AddDate(-4, 0, -7)},
		DisplayName: "Console Integration", Email: "integrations@nordlys-shop.example",
		AdditionalEmails: []string{}, AdditionalPhoneNumbers: []string{}, MiddleNames: []string{},
		Roles: []string{apiclient.AgentRoleAdmin},
	})
	for i := range deletedAgents {
		id := g.fixedID(fmt.Sprintf("deleted-agent/%d", i))
		g.st.deleted = append(g.st.deleted, id)
		g.agents = append(g.agents, id)
	}
}

// tagSpecs is the organisation's tag catalogue.
var tagSpecs = []wireTag{
	{Name: "refund", Color: "#E53935", State: apiclient.TagActive},
	{Name: "delivery-late", Color: "#FB8C00", State: apiclient.TagActive},
	{Name: "damaged", Color: "#8E24AA", State: apiclient.TagActive},
	{Name: "vip", Color: "#FDD835", State: apiclient.TagActive},
	{Name: "complaint", State: apiclient.TagActive},
	{Name: "invoice", Color: "#1E88E5", State: apiclient.TagActive},
	{Name: "login-problem", State: apiclient.TagActive},
	{Name: "return", Color: "#43A047", State: apiclient.TagActive},
	{Name: "feedback", Color: "#00ACC1", State: apiclient.TagActive},
	{Name: "Reklamation", Color: "#6D4C41", State: apiclient.TagActive},
	{Name: "عاجل", Color: "#D81B60", State: apiclient.TagActive},
	{Name: "至急", State: apiclient.TagActive},
	{Name: "spam", Color: "#757575", State: apiclient.TagActive},
	{Name: "black-friday-2024", Color: "#000000", State: apiclient.TagInactive},
	{Name: "legacy-import", State: apiclient.TagInactive},
	{Name: `<script>alert('tag')</script>`, Color: `red;background:url("javascript:alert(1)")`, State: apiclient.TagActive},
}

// hostileTag is the index in tagSpecs of the tag with markup.
var hostileTag = len(tagSpecs) - 1

func (g *gen) tagCatalogue() {
	for _, t := range tagSpecs {
		t.ID = g.fixedID("tag/" + t.Name)
		g.st.tags = append(g.st.tags, t)
	}
}
