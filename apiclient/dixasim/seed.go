package dixasim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/google/uuid"
)

// refDate anchors the demo data: every seeded date lies in the three years
// before it, so the data is the same whatever today is.
var refDate = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// Well-known demo users, seeded first (so present whenever Options.Users is
// at least their number) with fixed ids, whatever the seed.
const (
	// DemoScriptUserID has markup and SQL in every text field:
	// displayName "<script>alert(1)</script>".
	DemoScriptUserID = "de000000-0000-4000-8000-000000000001"
	// DemoQuotesRTLUserID mixes quotes, apostrophes, Arabic (right-to-left)
	// text and a right-to-left override character.
	DemoQuotesRTLUserID = "de000000-0000-4000-8000-000000000002"
	// DemoJSAvatarUserID has avatarUrl "javascript:alert(document.domain)".
	DemoJSAvatarUserID = "de000000-0000-4000-8000-000000000003"
	// DemoOpenConversationUserID has an Open and a Pending conversation, so
	// anonymizing it without force=true is refused with 409.
	DemoOpenConversationUserID = "de000000-0000-4000-8000-000000000004"
	// DemoBusyUserID has 30 conversations of every kind, channel and state,
	// two of each contact point and every end-user custom attribute.
	DemoBusyUserID = "de000000-0000-4000-8000-000000000005"
	// DemoMinimalUserID has nothing but an id and a createdAt.
	DemoMinimalUserID = "de000000-0000-4000-8000-000000000006"
	// DemoAnonymizedUserID was anonymized by DemoAnonymizationRequestID.
	DemoAnonymizedUserID = "de000000-0000-4000-8000-000000000007"
	// DemoAnonymizationRequestID is the processed request that anonymized
	// DemoAnonymizedUserID.
	DemoAnonymizationRequestID = "de000000-0000-4000-8000-0000000000a7"
)

// Addresses of the demo company (a fictional Danish web shop).
const (
	supportEmail     = "support@nordlys-shop.example"
	contactFormEmail = "kontakt@nordlys-shop.example"
	integrationEmail = "nordlys@email.dixa.example"
	companyNumber    = "+4570707070"
)

// idSpace derives the fixed uuids (definitions, options, agents, queues)
// from the seed, so they stay put when Options.Users changes.
var idSpace = uuid.MustParse("6f1e3b0a-9c2d-4e5f-8a7b-1c2d3e4f5a6b")

// gen generates a demo organisation.
type gen struct {
	st     *store
	r      *rand.Rand
	seed   int64
	agents []string // assignees: the directory's humans and the deleted agents
	queues []string
	extSeq int
	defs   map[string]*definition // by identifier
	emails map[string]bool        // every seeded address, additional ones too

	sources []convSource // the unused rest of the current slab
}

// seed builds the demo organisation: definitions, agents and tags always,
// then users end users (none when users < 0).
func seed(seedVal int64, users int) *store {
	st := newStore(seedVal)
	g := &gen{
		st:     st,
		r:      rand.New(rand.NewPCG(uint64(seedVal), 0x73656564)),
		seed:   seedVal,
		defs:   map[string]*definition{},
		emails: map[string]bool{},
	}
	g.definitions()
	g.agentDirectory()
	g.tagCatalogue()
	if users <= 0 {
		return st
	}
	for i := range 5 {
		g.queues = append(g.queues, g.fixedID(fmt.Sprintf("queue/%d", i)))
	}
	g.wellKnown(users)
	for len(st.users) < users {
		g.randomUser()
	}
	g.finish()
	return st
}

func (g *gen) fixedID(name string) string {
	return uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%d/%s", g.seed, name)).String()
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// between returns a time uniformly in [from, to), to the second.
func (g *gen) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return from.Truncate(time.Second)
	}
	return from.Add(time.Duration(g.r.Int64N(int64(to.Sub(from))))).Truncate(time.Second)
}

// add stores a generated user (list order is restored in finish).
func (g *gen) add(u *user) {
	u.AdditionalEmails = cloneStrings(u.AdditionalEmails)
	u.AdditionalPhoneNumbers = cloneStrings(u.AdditionalPhoneNumbers)
	u.MiddleNames = cloneStrings(u.MiddleNames)
	g.st.users[u.ID] = u
	g.st.order = append(g.st.order, u)
	g.st.index(u)
}

// ---- custom attribute definitions ----

type optSpec struct {
	label, value string
	deactivated  bool
	nested       []optSpec
}

func (g *gen) options(ident, parent string, specs []optSpec) []selectOption {
	out := make([]selectOption, len(specs))
	for i, s := range specs {
		path := parent + "/" + s.value
		out[i] = selectOption{
			ID:            g.fixedID("option/" + ident + path),
			Label:         s.label,
			Value:         s.value,
			IsDeactivated: s.deactivated,
			NestedOptions: g.options(ident, path, s.nested),
		}
	}
	return out
}

// number sets orderIndex in pre-order across the whole tree (1, 2, 3…),
// as in the spec's example.
func number(opts []selectOption, next *int32) {
	for i := range opts {
		*next++
		opts[i].OrderIndex = *next
		number(opts[i].NestedOptions, next)
	}
}

func zoned(t time.Time) apiclient.ZonedTime { return apiclient.ZonedTime{Time: t} }

func (g *gen) definitions() {
	at := func(y int, m time.Month, d, h, min, s, ms int) apiclient.ZonedTime {
		return zoned(time.Date(y, m, d, h, min, s, ms*int(time.Millisecond), time.UTC))
	}
	updated := func(z apiclient.ZonedTime) *apiclient.ZonedTime { return &z }
	leaves := func(pairs ...string) []optSpec {
		var out []optSpec
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, optSpec{label: pairs[i], value: pairs[i+1]})
		}
		return out
	}
	text := func(placeholder string) inputDefinition {
		return inputDefinition{Type: apiclient.InputText, Placeholder: placeholder}
	}
	sel := func(ident string, specs []optSpec) inputDefinition {
		opts := g.options(ident, "", specs)
		var n int32
		number(opts, &n)
		return inputDefinition{Type: apiclient.InputSelect, Options: opts}
	}
	sweden := leaves("Stockholm", "stockholm", "Göteborg", "gothenburg", "Malmö", "malmo", "Uppsala", "uppsala")
	sweden[2].deactivated = true // a city the company stopped serving
	location := []optSpec{
		{label: "Denmark", value: "denmark", nested: leaves("København", "copenhagen", "Aarhus", "aarhus", "Odense", "odense", "Aalborg", "aalborg")},
		{label: "Sweden", value: "sweden", nested: sweden},
		{label: "Germany", value: "germany", nested: leaves("Berlin", "berlin", "Hamburg", "hamburg", "München", "munich", "Köln", "cologne")},
		{label: "France", value: "france", nested: leaves("Paris", "paris", "Lyon", "lyon", "Marseille", "marseille")},
		{label: "Spain", value: "spain", nested: leaves("Madrid", "madrid", "Barcelona", "barcelona", "Sevilla", "seville")},
		{label: "Poland", value: "poland", nested: leaves("Warszawa", "warsaw", "Kraków", "krakow", "Gdańsk", "gdansk")},
		{label: "Netherlands", value: "netherlands", nested: leaves("Amsterdam", "amsterdam", "Rotterdam", "rotterdam")},
		{label: "United Kingdom", value: "united_kingdom", nested: leaves("London", "london", "Manchester", "manchester", "Edinburgh", "edinburgh")},
		{label: "Japan", value: "japan", nested: leaves("東京", "tokyo", "大阪", "osaka")},
		{label: "Other", value: "other"},
	}
	languages := leaves("Dansk", "da", "Svenska", "sv", "Deutsch", "de", "Français", "fr", "Español", "es",
		"Polski", "pl", "Türkçe", "tr", "العربية", "ar", "日本語", "ja", "中文", "zh", "Ελληνικά", "el",
		"हिन्दी", "hi", "English", "en", "Nederlands", "nl")
	reasons := []optSpec{
		{label: "Payment", value: "payment", nested: leaves("Card", "card", "Bank Transfer", "bank_transfer", "MobilePay", "mobilepay")},
		{label: "Delivery", value: "delivery", nested: leaves("Late", "late", "Damaged", "damaged", "Lost", "lost")},
		{label: "Returns", value: "returns"},
		{label: "Access", value: "access"},
	}
	defs := []*definition{
		{EntityType: apiclient.EntityContact, Identifier: "customer_tier", Label: "Customer tier",
			InputDefinition: sel("customer_tier", leaves("Bronze", "bronze", "Silver", "silver", "Gold", "gold", "Platinum", "platinum")),
			Description:     "Loyalty programme tier", CreatedAt: at(2023, 1, 3, 10, 12, 5, 118)},
		{EntityType: apiclient.EntityContact, Identifier: "location", Label: "Location",
			InputDefinition: sel("location", location),
			Description:     "End user's known city", CreatedAt: at(2023, 1, 1, 8, 25, 50, 246),
			UpdatedAt: updated(at(2024, 3, 14, 15, 9, 26, 535))},
		{EntityType: apiclient.EntityContact, Identifier: "preferred_language", Label: "Preferred language",
			InputDefinition: sel("preferred_language", languages), CreatedAt: at(2023, 2, 1, 9, 1, 52, 200)},
		{EntityType: apiclient.EntityContact, Identifier: "loyalty_number", Label: "Loyalty number",
			InputDefinition: text("LOY-000000"), Description: "Number on the loyalty card",
			CreatedAt: at(2023, 4, 12, 13, 37, 0, 1)},
		{EntityType: apiclient.EntityContact, Identifier: "agent_notes", Label: "Notes for agents",
			InputDefinition: text("Anything agents should know"), CreatedAt: at(2023, 6, 30, 7, 5, 44, 90),
			UpdatedAt: updated(at(2025, 1, 8, 11, 0, 0, 0))},
		{EntityType: apiclient.EntityContact, Identifier: "legacy_segment", Label: "Legacy segment",
			InputDefinition: text("B2C-2019"), Description: "Segment from the old CRM (archived)",
			CreatedAt: at(2023, 1, 2, 12, 0, 0, 0), UpdatedAt: updated(at(2024, 9, 2, 8, 30, 12, 400)), IsArchived: true},
		{EntityType: apiclient.EntityContact, Identifier: "newsletter_opt_in", Label: "Newsletter opt-in (old)",
			InputDefinition: sel("newsletter_opt_in", leaves("Yes", "yes", "No", "no")),
			CreatedAt:       at(2023, 1, 2, 12, 5, 0, 0), UpdatedAt: updated(at(2024, 5, 25, 0, 0, 0, 0)), IsDeactivated: true},
		{EntityType: apiclient.EntityConversation, Identifier: "contact_reason", Label: "Contact Reason",
			InputDefinition: sel("contact_reason", reasons), Description: "Reason for contacting",
			CreatedAt: at(2023, 1, 5, 6, 42, 31, 532), IsRequired: true},
		{EntityType: apiclient.EntityConversation, Identifier: "parcel_id", Label: "Parcel ID",
			InputDefinition: text("1234"), Description: "Id of the parcel",
			CreatedAt: at(2023, 1, 1, 8, 23, 54, 246), UpdatedAt: updated(at(2023, 1, 11, 12, 25, 23, 837))},
	}
	for _, d := range defs {
		d.ID = g.fixedID("definition/" + d.Identifier)
		g.st.defs = append(g.st.defs, d)
		g.st.defByID[d.ID] = d
		g.defs[d.Identifier] = d
	}
}

// ---- locales ----

// locale is a country's names, phone numbers and email habits. Names are
// "native|latin" when the native script is not Latin; Latin-script names
// are folded to ASCII for emails.
type locale struct {
	code     string
	weight   int
	lang     string // conversation language and preferred_language value
	country  string // location option value ("" for none)
	eastern  bool   // family name first in the native display name
	noSpace  bool   // no space between native family and given name
	given    []string
	family   []string
	domains  []string
	phone    func(g *gen) string
	subjects []string
	fold     map[rune]string // locale-specific ASCII folding
}

var germanFold = map[rune]string{'ä': "ae", 'ö': "oe", 'ü': "ue"}
var danishFold = map[rune]string{'å': "aa", 'ø': "oe"}

// common are the providers of every locale (reserved .example domains:
// demo addresses must never reach a real mailbox).
var commonDomains = []string{"gmail.example", "outlook.example", "icloud.example", "proton.example", "yahoo.example"}

// businessDomains are used for work addresses.
var businessDomains = []string{"acme-logistics.example", "northwind.example", "contoso.example", "fabrikam.example", "initech.example", "globex.example"}

var locales = []locale{
	{code: "dk", weight: 24, lang: "da", country: "denmark", fold: danishFold,
		given:   []string{"Søren", "Mette", "Anders", "Kirsten", "Jens", "Hanne", "Mads", "Line", "Rasmus", "Freja", "Ida", "Mikkel", "Sofie", "Frederik", "Astrid", "Jørgen", "Bjørn", "Lærke", "Emil", "Signe", "Åse"},
		family:  []string{"Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen", "Østergaard", "Kjærgaard", "Mølgaard", "Thygesen", "Søndergaard", "Bækgaard", "Dalsgaard", "Aagaard"},
		domains: []string{"jubii.example", "stofanet.example", "mail-dk.example"},
		phone:   func(g *gen) string { return "+45" + string(byte('2'+g.r.IntN(8))) + g.digits(7) },
		subjects: []string{"Hvor er min pakke?", "Reklamation – ordre %d", "Spørgsmål til faktura %d", "Ændring af leveringsadresse",
			"Refusion af ordre %d", "SV: Din returlabel", "Kan ikke logge ind", "Forkert vare modtaget"}},
	{code: "se", weight: 10, lang: "sv", country: "sweden",
		given:    []string{"Åsa", "Björn", "Linnéa", "Oskar", "Elsa", "Göran", "Ingrid", "Lars", "Maja", "Nils", "Sven", "Ebba", "Måns", "Tove", "Ulf"},
		family:   []string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Lindström", "Bergström", "Åkesson", "Sjöberg", "Ekström", "Lundqvist", "Öberg"},
		domains:  []string{"telia.example", "bredband.example", "spray.example"},
		phone:    func(g *gen) string { return "+467" + pick(g.r, []string{"0", "2", "3", "6"}) + g.digits(7) },
		subjects: []string{"Var är mitt paket?", "Retur av order %d", "Fråga om faktura %d", "Skadad leverans", "Byte av storlek"}},
	{code: "de", weight: 10, lang: "de", country: "germany", fold: germanFold,
		given:   []string{"Lukas", "Anna", "Jürgen", "Sabine", "Maximilian", "Lea", "Stefan", "Ursula", "Jörg", "Katharina", "Felix", "Hannah", "Günther", "Bärbel", "Moritz"},
		family:  []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Koch", "Groß", "Hoffmann", "Schröder", "Krüger", "Weiß", "Köhler"},
		domains: []string{"web.example", "gmx.example", "t-online.example"},
		phone: func(g *gen) string {
			return "+49" + pick(g.r, []string{"151", "152", "157", "160", "170", "171", "172", "176"}) + g.digits(8)
		},
		subjects: []string{"Wo bleibt meine Bestellung?", "Lieferung beschädigt", "Rückerstattung Bestellung %d", "Frage zur Rechnung %d", "AW: Ihre Rücksendung"}},
	{code: "fr", weight: 6, lang: "fr", country: "france",
		given:    []string{"Amélie", "François", "Chloé", "Théo", "Léa", "Hélène", "Jérôme", "Maëlle", "Benoît", "Élodie", "Noël", "Gaëlle", "Zoé", "Clément", "Inès"},
		family:   []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Lefèvre", "Moreau", "Girard", "Fontaine", "Chevalier", "Roux", "Bonnet", "Dupont", "Lambert", "Faure", "Mercier"},
		domains:  []string{"orange.example", "free.example", "laposte.example"},
		phone:    func(g *gen) string { return "+33" + pick(g.r, []string{"6", "7"}) + g.digits(8) },
		subjects: []string{"Où est ma commande ?", "Problème de connexion", "Remboursement commande %d", "Colis endommagé", "RE: Votre retour"}},
	{code: "es", weight: 6, lang: "es", country: "spain",
		given:    []string{"José", "María", "Lucía", "Álvaro", "Nuria", "Sofía", "Ángel", "Begoña", "Íñigo", "Pilar", "Raúl", "Sergio", "Marta", "Andrés", "Inés"},
		family:   []string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Núñez", "Jiménez", "Ruiz", "Díaz", "Muñoz", "Ibáñez", "Álvarez"},
		domains:  []string{"telefonica.example", "yahoo-es.example"},
		phone:    func(g *gen) string { return "+34" + pick(g.r, []string{"6", "7"}) + g.digits(8) },
		subjects: []string{"¿Dónde está mi pedido?", "Devolución del pedido %d", "Problema con la factura %d", "Producto defectuoso"}},
	{code: "pl", weight: 6, lang: "pl", country: "poland",
		given:    []string{"Łukasz", "Agnieszka", "Katarzyna", "Paweł", "Małgorzata", "Krzysztof", "Zofia", "Wojciech", "Józef", "Magdalena", "Michał", "Grzegorz", "Joanna", "Piotr", "Ewa"},
		family:   []string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk"},
		domains:  []string{"wp.example", "onet.example", "interia.example"},
		phone:    func(g *gen) string { return "+48" + string(byte('5'+g.r.IntN(4))) + g.digits(8) },
		subjects: []string{"Gdzie jest moja przesyłka?", "Zwrot zamówienia %d", "Reklamacja", "Pytanie o fakturę %d"}},
	{code: "tr", weight: 5, lang: "tr",
		given:    []string{"Çağrı", "Ayşe", "Mehmet", "Fatma", "Gökhan", "Zeynep", "Emre", "Elif", "Şükrü", "Gülşen", "Burak", "İpek", "Oğuz", "Merve", "Hüseyin"},
		family:   []string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin"},
		domains:  []string{"yandex.example", "superonline.example"},
		phone:    func(g *gen) string { return "+905" + string(byte('0'+g.r.IntN(6))) + g.digits(8) },
		subjects: []string{"Siparişim nerede?", "İade talebi %d", "Fatura hakkında soru"}},
	{code: "ar", weight: 5, lang: "ar",
		given:    []string{"محمد|Mohammed", "فاطمة|Fatima", "أحمد|Ahmed", "ليلى|Layla", "يوسف|Youssef", "مريم|Mariam", "عمر|Omar", "نور|Nour", "خالد|Khalid", "سارة|Sara", "علي|Ali", "هدى|Huda"},
		family:   []string{"العتيبي|Al-Otaibi", "الحسن|Al-Hassan", "منصور|Mansour", "حداد|Haddad", "الخطيب|Al-Khatib", "النجار|Al-Najjar", "سليمان|Suleiman", "عبدالله|Abdullah", "الزهراني|Al-Zahrani", "قاسم|Qasim"},
		domains:  []string{"emirates.example", "batelco.example"},
		phone:    func(g *gen) string { return "+9715" + pick(g.r, []string{"0", "2", "4", "5", "6", "8"}) + g.digits(7) },
		subjects: []string{"أين طلبي؟", "طلب استرداد %d", "مشكلة في الفاتورة"}},
	{code: "jp", weight: 4, lang: "ja", country: "japan", eastern: true,
		given:    []string{"太郎|Taro", "花子|Hanako", "健|Ken", "由美|Yumi", "翔太|Shota", "美咲|Misaki", "大輔|Daisuke", "さくら|Sakura", "拓也|Takuya", "陽菜|Hina"},
		family:   []string{"佐藤|Sato", "鈴木|Suzuki", "高橋|Takahashi", "田中|Tanaka", "伊藤|Ito", "渡辺|Watanabe", "山本|Yamamoto", "中村|Nakamura", "小林|Kobayashi", "加藤|Kato"},
		domains:  []string{"docomo.example", "yahoo-jp.example"},
		phone:    func(g *gen) string { return "+81" + pick(g.r, []string{"70", "80", "90"}) + g.digits(8) },
		subjects: []string{"注文した商品が届きません", "返品について (注文番号 %d)", "請求書 %d について"}},
	{code: "cn", weight: 4, lang: "zh", eastern: true, noSpace: true,
		given:    []string{"伟|Wei", "芳|Fang", "娜|Na", "敏|Min", "静|Jing", "磊|Lei", "洋|Yang", "艳|Yan", "勇|Yong", "军|Jun", "杰|Jie", "婷|Ting"},
		family:   []string{"王|Wang", "李|Li", "张|Zhang", "刘|Liu", "陈|Chen", "杨|Yang", "黄|Huang", "赵|Zhao", "吴|Wu", "周|Zhou"},
		domains:  []string{"qq.example", "163.example"},
		phone:    func(g *gen) string { return "+861" + string(byte('3'+g.r.IntN(7))) + g.digits(9) },
		subjects: []string{"我的订单在哪里？", "退款申请 %d", "发票问题"}},
	{code: "gr", weight: 3, lang: "el",
		given:    []string{"Γιώργος|Giorgos", "Μαρία|Maria", "Νίκος|Nikos", "Ελένη|Eleni", "Δημήτρης|Dimitris", "Κατερίνα|Katerina", "Κώστας|Kostas", "Σοφία|Sofia", "Γιάννης|Giannis", "Αγγελική|Angeliki"},
		family:   []string{"Παπαδόπουλος|Papadopoulos", "Παπαδάκης|Papadakis", "Γεωργίου|Georgiou", "Οικονόμου|Oikonomou", "Βασιλείου|Vasileiou", "Νικολάου|Nikolaou", "Κωνσταντίνου|Konstantinou", "Αντωνίου|Antoniou"},
		domains:  []string{"otenet.example", "forthnet.example"},
		phone:    func(g *gen) string { return "+3069" + g.digits(8) },
		subjects: []string{"Πού είναι η παραγγελία μου;", "Επιστροφή παραγγελίας %d"}},
	{code: "in", weight: 4, lang: "hi",
		given:    []string{"प्रिया|Priya", "राहुल|Rahul", "अंजलि|Anjali", "अमित|Amit", "सुनीता|Sunita", "विकास|Vikas", "नेहा|Neha", "अर्जुन|Arjun", "पूजा|Pooja", "रोहित|Rohit"},
		family:   []string{"शर्मा|Sharma", "वर्मा|Verma", "गुप्ता|Gupta", "सिंह|Singh", "पटेल|Patel", "कुमार|Kumar", "जोशी|Joshi", "मेहता|Mehta"},
		domains:  []string{"rediffmail.example", "sify.example"},
		phone:    func(g *gen) string { return "+91" + string(byte('6'+g.r.IntN(4))) + g.digits(9) },
		subjects: []string{"मेरा ऑर्डर कहाँ है?", "रिफंड अनुरोध %d", "Order %d not delivered"}},
	{code: "gb", weight: 6, lang: "en", country: "united_kingdom",
		given:    []string{"Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlie", "Poppy", "Siobhan", "Niamh", "Rhys", "Eilidh"},
		family:   []string{"Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "O'Connor", "O'Neill", "Fitzgerald", "McDonald", "Ashworth-Hughes"},
		domains:  []string{"btinternet.example", "sky.example", "virginmedia.example"},
		phone:    func(g *gen) string { return "+447" + string(byte('1'+g.r.IntN(9))) + g.digits(8) },
		subjects: []string{"Where is my order?", "Refund for order #%d", "Damaged item received", "Cannot log in to my account", "Re: Your return label", "Fwd: Payment failed"}},
	{code: "us", weight: 6, lang: "en",
		given:   []string{"James", "Mary", "Michael", "Jennifer", "DeShawn", "Emily", "Christopher", "Jessica", "Daniel", "Ashley", "Tyler", "Madison", "Carlos", "Mei"},
		family:  []string{"Johnson", "Williams", "Miller", "Davis", "Garcia", "Rodriguez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Nguyen", "Kim", "O'Brien"},
		domains: []string{"comcast.example", "aol.example", "verizon.example"},
		phone: func(g *gen) string {
			return "+1" + pick(g.r, []string{"212", "415", "617", "312", "206", "512", "303", "404"}) + string(byte('2'+g.r.IntN(8))) + g.digits(6)
		},
		subjects: []string{"Where is my order?", "Invoice %d – wrong amount", "Question about warranty", "Cancel my subscription", "Change delivery address"}},
	{code: "nl", weight: 3, lang: "nl", country: "netherlands",
		given:    []string{"Daan", "Sanne", "Bram", "Fleur", "Joris", "Lotte", "Sem", "Anouk"},
		family:   []string{"de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "de Jong", "van der Meer"},
		domains:  []string{"ziggo.example", "kpnmail.example"},
		phone:    func(g *gen) string { return "+316" + g.digits(8) },
		subjects: []string{"Waar blijft mijn bestelling?", "Retour bestelling %d"}},
}

var totalLocaleWeight = func() int {
	n := 0
	for _, l := range locales {
		n += l.weight
	}
	return n
}()

func (g *gen) locale() *locale {
	n := g.r.IntN(totalLocaleWeight)
	for i := range locales {
		if n -= locales[i].weight; n < 0 {
			return &locales[i]
		}
	}
	return &locales[0]
}

// splitName returns the native and Latin forms of a "native|latin" name.
func splitName(s string) (native, latin string) {
	if n, l, ok := strings.Cut(s, "|"); ok {
		return n, l
	}
	return s, s
}

var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ą': "a", 'ă': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e", 'ğ': "g",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'ī': "i", 'ł': "l",
	'ñ': "n", 'ń': "n", 'ň': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o",
	'œ': "oe", 'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ș': "s", 'ß': "ss", 'ť': "t", 'ţ': "t", 'ț': "t",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ý': "y", 'ÿ': "y",
	'ź': "z", 'ż': "z", 'ž': "z", 'þ': "th",
}

// emailPart folds a Latin name to the [a-z0-9] an email local part uses.
func emailPart(name string, extra map[rune]string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case extra[r] != "":
			b.WriteString(extra[r])
		case asciiFold[r] != "":
			b.WriteString(asciiFold[r])
		}
	}
	return b.String()
}

// ---- end users ----

// randomUser generates one end user of a random locale.
func (g *gen) randomUser() {
	loc := g.locale()
	u := &user{wireEndUser: wireEndUser{
		ID:        g.st.newID(),
		CreatedAt: apiclient.Time{Time: g.between(refDate.AddDate(-3, 0, 0), refDate.Add(-time.Hour))},
	}}
	if g.chance(0.03) {
		// An anonymous chat visitor: Dixa names them for the agent.
		u.DisplayName = fmt.Sprintf("Visitor %d", 10000+g.r.IntN(90000))
		g.add(u)
		g.conversations(u, loc, 1+g.r.IntN(3), []string{apiclient.ConvChat})
		return
	}
	givenN, givenL := splitName(pick(g.r, loc.given))
	familyN, familyL := splitName(pick(g.r, loc.family))
	native := givenN != givenL || familyN != familyL
	useNative := !native || g.chance(0.6)
	given, family := givenL, familyL
	if useNative {
		given, family = givenN, familyN
	}
	var middle []string
	if !native && g.chance(0.12) {
		if m, _ := splitName(pick(g.r, loc.given)); m != given {
			middle = []string{m}
		}
	}
	switch {
	case useNative && loc.eastern && loc.noSpace:
		u.DisplayName = family + given
	case useNative && loc.eastern:
		u.DisplayName = family + " " + given
	default:
		u.DisplayName = strings.Join(slices.Concat([]string{given}, middle, []string{family}), " ")
	}
	if g.chance(0.88) {
		u.FirstName, u.LastName, u.MiddleNames = given, family, middle
	}
	if g.chance(0.04) {
		u.DisplayName = strings.ToLower(given) // typed by the customer in a chat
	}
	if g.chance(0.9) {
		u.Email = g.uniqueEmail(g.localPart(givenL, familyL, loc), pick(g.r, slices.Concat(loc.domains, commonDomains)))
		if g.chance(0.12) {
			u.AdditionalEmails = append(u.AdditionalEmails,
				g.uniqueEmail(emailPart(givenL, loc.fold)+"."+emailPart(familyL, loc.fold), pick(g.r, businessDomains)))
		}
	}
	if g.chance(0.7) {
		u.PhoneNumber = g.uniquePhone(loc)
		if g.chance(0.1) {
			u.AdditionalPhoneNumbers = append(u.AdditionalPhoneNumbers, g.uniquePhone(loc))
		}
	}
	if g.chance(0.35) {
		g.extSeq += 1 + g.r.IntN(40)
		u.ExternalID = fmt.Sprintf("#CRM-%06d", g.extSeq)
	}
	if g.chance(0.25) {
		u.AvatarURL = fmt.Sprintf("https://avatars.example/u/%016x.jpg", g.r.Uint64())
	}
	g.add(u)
	g.attributes(u, loc)
	n := int(math.Floor(math.Pow(g.r.Float64(), 3) * 31)) // 0–30, most users few
	g.conversations(u, loc, n, nil)
}

// localPart builds an email local part the way people pick them.
func (g *gen) localPart(given, family string, loc *locale) string {
	f, l := emailPart(given, loc.fold), emailPart(family, loc.fold)
	if f == "" || l == "" {
		return f + l
	}
	switch g.r.IntN(7) {
	case 0:
		return f + l
	case 1:
		return f[:1] + "." + l
	case 2:
		return f + "_" + l
	case 3:
		return f + "." + l + g.digits(2)
	case 4:
		return l + "." + f
	case 5:
		return f + fmt.Sprint(1950+g.r.IntN(56))
	}
	return f + "." + l
}

func (g *gen) uniqueEmail(local, domain string) string {
	if local == "" {
		local = "customer"
	}
	e := local + "@" + domain
	for i := 2; g.emails[e]; i++ {
		e = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	g.emails[e] = true
	return e
}

func (g *gen) uniquePhone(loc *locale) string {
	for {
		if p := loc.phone(g); g.st.phones[p] == "" {
			g.st.phones[p] = "reserved" // until add indexes the user
			return p
		}
	}
}

var agentNotes = []string{
	"Prefers phone calls after 16:00", "VIP – handle with care", "Ring ikke før kl. 10",
	"Speaks English and Danish", "Has asked not to receive marketing", "Bitte auf Deutsch antworten",
	"Long-standing customer since 2009", "Escalate billing questions to Finance",
}

// attributes gives u custom attribute values that fit its locale.
func (g *gen) attributes(u *user, loc *locale) {
	set := func(ident string, v attrValue) {
		if u.attrs == nil {
			u.attrs = map[string]attrValue{}
		}
		u.attrs[g.defs[ident].ID] = v
	}
	selectV := func(path ...string) attrValue { return attrValue{path: path, isSelect: true} }
	if g.chance(0.6) {
		tier := []string{"bronze", "bronze", "bronze", "bronze", "bronze", "silver", "silver", "silver", "gold", "platinum"}
		set("customer_tier", selectV(pick(g.r, tier)))
	}
	if g.chance(0.4) {
		if loc.country == "" {
			set("location", selectV("other"))
		} else if g.chance(0.15) {
			set("location", selectV(loc.country))
		} else {
			for _, o := range g.defs["location"].InputDefinition.Options {
				if o.Value == loc.country {
					city := pick(g.r, o.NestedOptions) // deactivated cities too: set before deactivation
					set("location", selectV(loc.country, city.Value))
				}
			}
		}
	}
	if g.chance(0.5) {
		lang := loc.lang
		if g.chance(0.2) {
			lang = "en"
		}
		set("preferred_language", selectV(lang))
	}
	if g.chance(0.25) {
		set("loyalty_number", attrValue{text: "LOY-" + g.digits(6)})
	}
	if g.chance(0.05) {
		set("agent_notes", attrValue{text: pick(g.r, agentNotes)})
	}
	if g.chance(0.1) {
		set("legacy_segment", attrValue{text: pick(g.r, []string{"B2C-2019", "B2B-SMB", "Churn-risk"})})
	}
	if g.chance(0.15) {
		set("newsletter_opt_in", selectV(pick(g.r, []string{"yes", "no"})))
	}
}

// ---- conversations ----

// kindSpec is a conversation kind, its channels and how common it is.
type kindSpec struct {
	kind     string
	channels []string
	weight   int
	email    bool // needs the user's email
	phone    bool // needs the user's phone
}

// kinds covers every kind and channel. GenericConversation (custom
// channels) has no channel of its own in the enum; it borrows Messenger
// and WhatsApp here.
var kinds = []kindSpec{
	{kind: apiclient.ConvEmail, channels: []string{"Email"}, weight: 30, email: true},
	{kind: apiclient.ConvContactForm, channels: []string{"ContactForm"}, weight: 8, email: true},
	{kind: apiclient.ConvChat, channels: []string{"WidgetChat"}, weight: 20},
	{kind: apiclient.ConvPstnPhone, channels: []string{"PstnPhone", "PstnPhone", "PstnPhone", "Callback", "Voicemail"}, weight: 12, phone: true},
	{kind: apiclient.ConvSms, channels: []string{"Sms"}, weight: 6, phone: true},
	{kind: apiclient.ConvWhatsApp, channels: []string{"WhatsApp"}, weight: 8, phone: true},
	{kind: apiclient.ConvMessenger, channels: []string{"Messenger"}, weight: 4},
	{kind: apiclient.ConvFacebookMessenger, channels: []string{"FacebookMessenger"}, weight: 4},
	{kind: apiclient.ConvTwitter, channels: []string{"Twitter"}, weight: 3},
	{kind: apiclient.ConvGeneric, channels: []string{"Messenger", "WhatsApp"}, weight: 2},
}

func (g *gen) kindFor(u *user) kindSpec {
	total := 0
	for _, k := range kinds {
		if (!k.email || u.Email != "") && (!k.phone || u.PhoneNumber != "") {
			total += k.weight
		}
	}
	n := g.r.IntN(total)
	for _, k := range kinds {
		if (!k.email || u.Email != "") && (!k.phone || u.PhoneNumber != "") {
			if n -= k.weight; n < 0 {
				return k
			}
		}
	}
	return kinds[2]
}

// conversations adds n conversations to u, of the given kinds (any when
// nil). Ids and link parents are set in finish.
func (g *gen) conversations(u *user, loc *locale, n int, only []string) {
	u.convs = slices.Grow(u.convs, n)
	for range n {
		k := g.kindFor(u)
		if only != nil {
			k = kinds[slices.IndexFunc(kinds, func(k kindSpec) bool { return k.kind == only[0] })]
		}
		at := g.between(u.CreatedAt.Time, refDate)
		u.convs = append(u.convs, g.conversation(u, loc, k, pick(g.r, k.channels), at, ""))
	}
}

var browsers = []browserInfo{
	{Name: "Chrome 130", Version: "130.0.6723.92"}, {Name: "Safari 18", Version: "18.0.1"},
	{Name: "Firefox 132", Version: "132.0.1"}, {Name: "Edge 130", Version: "130.0.2849.68"},
	{Name: "Samsung Internet 26", Version: "26.0.0.52"},
}

var pages = []string{"https://shop.nordlys.example/", "https://shop.nordlys.example/checkout",
	"https://shop.nordlys.example/orders", "https://help.nordlys.example/returns"}

// conversation generates one conversation of kind k created at at; state
// "" picks one (only recent conversations may still be open).
func (g *gen) conversation(u *user, loc *locale, k kindSpec, channel string, at time.Time, state string) wireConversation {
	c := wireConversation{
		RequesterID: u.ID,
		Channel:     channel,
		CreatedAt:   apiclient.Time{Time: at},
		Direction:   pick(g.r, []string{"Inbound", "Inbound", "Inbound", "Inbound", "Inbound", "Inbound", "Outbound", "Outbound", "Inbound", "Internal"}),
		Type:        k.kind,
	}
	if state == "" {
		state = apiclient.StateClosed
		if refDate.Sub(at) < 21*24*time.Hour {
			state = pick(g.r, []string{apiclient.StateClosed, apiclient.StateClosed, apiclient.StateOpen, apiclient.StatePending, apiclient.StateAwaitingPending})
		}
	}
	c.State = state
	updated := at.Add(time.Duration(5+g.r.IntN(3*24*60)) * time.Minute)
	c.StateUpdatedAt = timePtr(minTime(updated, refDate))
	if g.chance(0.8) {
		c.Queue = &queue{ID: pick(g.r, g.queues), QueuedAt: timePtr(at.Add(time.Duration(1+g.r.IntN(30)) * time.Second))}
	}
	if state != apiclient.StateOpen || g.chance(0.5) {
		c.Assignment = &assignment{AgentID: pick(g.r, g.agents),
			AssignedAt: apiclient.Time{Time: at.Add(time.Duration(1+g.r.IntN(120)) * time.Minute)}}
	}
	subject := func() string {
		s := pick(g.r, loc.subjects)
		if strings.Contains(s, "%d") {
			s = fmt.Sprintf(s, 10000+g.r.IntN(90000))
		}
		return s
	}
	switch k.kind {
	case apiclient.ConvEmail:
		c.FromEmail, c.ToEmail, c.IntegrationEmail = u.Email, supportEmail, integrationEmail
		if c.Direction == "Outbound" {
			c.FromEmail, c.ToEmail = supportEmail, u.Email
		}
		c.Subject, c.Language = subject(), loc.lang
	case apiclient.ConvContactForm:
		c.FromEmail, c.ToEmail, c.IntegrationEmail = u.Email, contactFormEmail, integrationEmail
		c.Subject, c.Language = subject(), loc.lang
	case apiclient.ConvChat, apiclient.ConvMessenger:
		b := pick(g.r, browsers)
		b.IPAddress = fmt.Sprintf("%s.%d", pick(g.r, []string{"192.0.2", "198.51.100", "203.0.113"}), 1+g.r.IntN(254))
		b.OriginatingURL = pick(g.r, pages)
		c.BrowserInfo, c.Language = &b, loc.lang
	case apiclient.ConvSms:
		c.FromNumber, c.ToNumber = u.PhoneNumber, companyNumber
	case apiclient.ConvWhatsApp:
		c.TransportExpiresAt = timePtr(at.Add(24 * time.Hour))
	case apiclient.ConvTwitter:
		c.ConversationType = pick(g.r, []string{"DirectMessage", "DirectMessage", "Tweet"})
		c.ContactPointTwitterID = "1467726470533754880"
		c.EndUserTwitterID = "1" + g.digits(18)
	case apiclient.ConvGeneric:
		c.FromContactPointID = "ext-" + g.digits(10)
		c.ToContactPointID = "nordlys-app-channel"
	}
	c.src = g.newSource(&c, u, loc)
	// The parent is chosen in finish, once ids are known.
	switch {
	case g.chance(0.05):
		c.Link = &link{Type: "FollowUp"}
	case g.chance(0.02):
		c.Link = &link{Type: "SideConversation"}
	case k.kind == apiclient.ConvEmail && g.chance(0.03):
		c.Link = &link{Type: "EmailForward"}
	}
	return c
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// finish orders users and conversations, numbers conversations in time
// order (Dixa's ids grow), links follow-ups to an earlier conversation of
// the same user and processes the seeded anonymizations.
func (g *gen) finish() {
	st := g.st
	slices.SortFunc(st.order, func(a, b *user) int { return a.pos().compare(b.pos()) })
	type ref struct {
		at time.Time
		c  *wireConversation
	}
	var all []ref
	for _, u := range st.order {
		slices.SortStableFunc(u.convs, func(a, b wireConversation) int { return a.CreatedAt.Compare(b.CreatedAt.Time) })
		for i := range u.convs {
			all = append(all, ref{u.convs[i].CreatedAt.Time, &u.convs[i]})
		}
	}
	slices.SortStableFunc(all, func(a, b ref) int { return a.at.Compare(b.at) })
	st.convOwner = make(map[int64]*user, len(all))
	for _, r := range all {
		r.c.ID = st.nextConvID
		st.nextConvID += 1 + int64(g.r.IntN(7)) // other customers' conversations in between
	}
	for _, u := range st.order {
		for i := range u.convs {
			st.convOwner[u.convs[i].ID] = u
			if l := u.convs[i].Link; l != nil {
				if i == 0 {
					u.convs[i].Link = nil // nothing earlier to link to
				} else {
					l.ParentID = u.convs[g.r.IntN(i)].ID
				}
			}
		}
		if !strings.HasPrefix(u.ID, "de000000-") && g.chance(0.01) {
			g.anonymizeSeeded(u, g.st.newID())
		}
	}
	if u, ok := st.users[DemoAnonymizedUserID]; ok {
		g.anonymizeSeeded(u, DemoAnonymizationRequestID)
	}
}

// anonymizeSeeded records a processed anonymization of u.
func (g *gen) anonymizeSeeded(u *user, requestID string) {
	last := u.CreatedAt.Time
	for _, c := range u.convs {
		if c.CreatedAt.After(last) {
			last = c.CreatedAt.Time
		}
	}
	at := minTime(last.Add(time.Duration(1+g.r.IntN(30*24))*time.Hour), refDate.Add(-time.Hour))
	if !at.After(last) {
		at = last.Add(time.Minute)
	}
	at = at.Add(time.Duration(g.r.IntN(1000)) * time.Millisecond)
	g.st.closeConversations(u, at)
	g.st.anonymize(u, at)
	processed := apiclient.ZonedTime{Time: at}
	g.st.requests[requestID] = &anonRequest{
		wireAnonRequest: wireAnonRequest{
			ID:             requestID,
			EntityType:     "UserAnonymizationType",
			Type:           "User",
			InitiatedAt:    zoned(at.Add(-1500 * time.Millisecond)),
			TargetEntityID: u.ID,
			RequestedBy:    TokenOwnerID,
			ProcessedAt:    &processed,
		},
		due: at,
	}
}

// ---- well-known users ----

// wellKnown adds the first n of the well-known demo users.
func (g *gen) wellKnown(n int) {
	users := []func() *user{g.knownHostile, g.knownQuotesRTL, g.knownJSAvatar, g.knownOpenConversation,
		g.knownBusy, g.knownMinimal, g.knownAnonymized}
	for _, mk := range users[:min(n, len(users))] {
		mk()
	}
}

// knownDay is the day daysBefore days before the demo's reference date.
func knownDay(daysBefore int) time.Time { return refDate.AddDate(0, 0, -daysBefore) }

// setAttr sets u's custom attribute ident (a demo definition) to v.
func (g *gen) setAttr(u *user, ident string, v attrValue) {
	if u.attrs == nil {
		u.attrs = map[string]attrValue{}
	}
	u.attrs[g.defs[ident].ID] = v
}

// kindOf is the conversation kind named kind.
func kindOf(kind string) kindSpec {
	return kinds[slices.IndexFunc(kinds, func(k kindSpec) bool { return k.kind == kind })]
}

// knownHostile adds a customer whose every field is an injection attempt,
// with a hostile email conversation.
func (g *gen) knownHostile() *user {
	dk := &locales[0]
	u := &user{wireEndUser: wireEndUser{
		ID: DemoScriptUserID, CreatedAt: apiclient.Time{Time: knownDay(700)},
		DisplayName: "<script>alert(1)</script>",
		FirstName:   `<img src=x onerror=alert(1)>`,
		LastName:    `Robert'); DROP TABLE endusers;--`,
		Email:       "script.kiddie@hostile.example",
		PhoneNumber: "+4520000001",
		ExternalID:  `"><svg onload=alert(1)>`,
		AvatarURL:   `https://avatars.example/u/x.jpg" onerror="alert(1)`,
		MiddleNames: []string{"{{.Secret}}", "${7*7}"},
	}}
	g.setAttr(u, "agent_notes", attrValue{text: `<b>bold</b> <a href="javascript:alert(1)">click</a> {{template "x"}}`})
	g.setAttr(u, "loyalty_number", attrValue{text: `'; alert(1); //`})
	g.add(u)
	c := g.conversation(u, dk, kindOf(apiclient.ConvEmail), "Email", knownDay(650), apiclient.StateClosed)
	c.Subject = `<script>alert("subject")</script> Re: order #1`
	c.src.demo = DemoHostileEmail
	u.convs = append(u.convs, c)
	return u
}

// knownQuotesRTL adds a customer with a right-to-left name, quotes and a
// bidi override, with chats in Arabic.
func (g *gen) knownQuotesRTL() *user {
	u := &user{wireEndUser: wireEndUser{
		ID: DemoQuotesRTLUserID, CreatedAt: apiclient.Time{Time: knownDay(640)},
		DisplayName: `Zainab "Zee" O'Hara زينب الفارسي`,
		FirstName:   "زينب",
		LastName:    "الفارسي",
		MiddleNames: []string{"\u202Egnp.exe", `"Zee"`},
		Email:       "zee.ohara@hostile.example",
		PhoneNumber: "+971501234567",
	}}
	g.setAttr(u, "preferred_language", attrValue{path: []string{"ar"}, isSelect: true})
	g.add(u)
	g.conversations(u, &locales[7], 3, []string{apiclient.ConvChat})
	u.convs[0].src.demo = DemoRTLChat
	return u
}

// knownJSAvatar adds a customer whose avatar URL is a javascript: URL.
func (g *gen) knownJSAvatar() *user {
	u := &user{wireEndUser: wireEndUser{
		ID: DemoJSAvatarUserID, CreatedAt: apiclient.Time{Time: knownDay(600)},
		DisplayName: "Avatar Trap",
		Email:       "avatar.trap@hostile.example",
		AvatarURL:   "javascript:alert(document.domain)",
	}}
	g.add(u)
	return u
}

// knownOpenConversation adds a Danish customer with closed conversations
// and an open and a pending one.
func (g *gen) knownOpenConversation() *user {
	dk := &locales[0]
	u := &user{wireEndUser: wireEndUser{
		ID: DemoOpenConversationUserID, CreatedAt: apiclient.Time{Time: knownDay(500)},
		DisplayName: "Karen Østergaard", FirstName: "Karen", LastName: "Østergaard",
		Email: "karen.ostergaard@demo.example", PhoneNumber: "+4520304050",
		ExternalID: "#CRM-000042",
	}}
	g.setAttr(u, "customer_tier", attrValue{path: []string{"gold"}, isSelect: true})
	g.add(u)
	for i, d := range []int{400, 300, 200} {
		u.convs = append(u.convs, g.conversation(u, dk, kinds[i%3], kinds[i%3].channels[0], knownDay(d), apiclient.StateClosed))
	}
	u.convs = append(u.convs,
		g.conversation(u, dk, kindOf(apiclient.ConvEmail), "Email", knownDay(3), apiclient.StateOpen),
		g.conversation(u, dk, kindOf(apiclient.ConvChat), "WidgetChat", knownDay(1), apiclient.StatePending))
	return u
}

// knownBusy adds the busiest profile: every field, every attribute, 30
// conversations of every kind and state.
func (g *gen) knownBusy() *user {
	u := &user{wireEndUser: wireEndUser{
		ID: DemoBusyUserID, CreatedAt: apiclient.Time{Time: knownDay(1000)},
		DisplayName: "Ingrid Åkesson-Lindqvist", FirstName: "Ingrid", LastName: "Åkesson-Lindqvist",
		MiddleNames:            []string{"Maria", "Sofia"},
		Email:                  "ingrid.akesson@demo.example",
		AdditionalEmails:       []string{"ingrid@northwind.example", "i.lindqvist@telia.example"},
		PhoneNumber:            "+46701234567",
		AdditionalPhoneNumbers: []string{"+46812345678", "+4520112233"},
		AvatarURL:              "https://avatars.example/u/ingrid.jpg",
		ExternalID:             "#CRM-000001",
	}}
	g.setAttr(u, "customer_tier", attrValue{path: []string{"platinum"}, isSelect: true})
	g.setAttr(u, "location", attrValue{path: []string{"sweden", "gothenburg"}, isSelect: true})
	g.setAttr(u, "preferred_language", attrValue{path: []string{"sv"}, isSelect: true})
	g.setAttr(u, "loyalty_number", attrValue{text: "LOY-000001"})
	g.setAttr(u, "agent_notes", attrValue{text: "Key account – escalate to team lead"})
	g.setAttr(u, "legacy_segment", attrValue{text: "B2B-SMB"})
	g.setAttr(u, "newsletter_opt_in", attrValue{path: []string{"yes"}, isSelect: true})
	g.add(u)
	se := &locales[1]
	states := []string{apiclient.StateOpen, apiclient.StatePending, apiclient.StateAwaitingPending}
	i := 0
	for _, k := range kinds {
		for _, ch := range slices.Compact(slices.Clone(k.channels)) {
			u.convs = append(u.convs, g.conversation(u, se, k, ch, knownDay(900-60*i), apiclient.StateClosed))
			i++
		}
	}
	for len(u.convs) < 27 {
		k := pick(g.r, kinds)
		u.convs = append(u.convs, g.conversation(u, se, k, pick(g.r, k.channels), knownDay(200-5*len(u.convs)), apiclient.StateClosed))
	}
	for j, s := range states {
		u.convs = append(u.convs, g.conversation(u, se, kinds[j], kinds[j].channels[0], knownDay(3-j), s))
	}
	u.convs[0].src.demo = DemoHugeMessage // kinds[0] is email
	// One conversation was anonymized on its own (a GDPR request
	// for that conversation only), so every kind is here.
	u.convs[5] = u.convs[5].anonymized(u.convs[5].CreatedAt.AddDate(0, 0, 10))
	return u
}

// knownMinimal adds a customer with nothing but an id.
func (g *gen) knownMinimal() *user {
	u := &user{wireEndUser: wireEndUser{ID: DemoMinimalUserID, CreatedAt: apiclient.Time{Time: knownDay(450)}}}
	g.add(u)
	return u
}

// knownAnonymized adds the customer (with conversations) whom the demo's
// anonymization request has anonymized.
func (g *gen) knownAnonymized() *user {
	dk := &locales[0]
	u := &user{wireEndUser: wireEndUser{
		ID: DemoAnonymizedUserID, CreatedAt: apiclient.Time{Time: knownDay(900)},
		DisplayName: "Jens Kofoed", FirstName: "Jens", LastName: "Kofoed",
		Email: "jens.kofoed@demo.example", PhoneNumber: "+4520998877",
	}}
	g.add(u)
	g.conversations(u, dk, 4, nil)
	return u
}
