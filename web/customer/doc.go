// Package customer holds the rules for an end user's fields: one
// validation and normalisation used by the edit form, the create form, the
// CSV import and the search box, so that a value one of them accepts the
// others accept unchanged. It also reads the search box, compares a save
// with what Dixa holds now (the write-conflict rule) and caches the custom
// attribute definitions.
//
// What Dixa itself fixes:
//   - ids of customers, attribute definitions and options are UUIDs;
//   - additionalEmails and additionalPhoneNumbers hold no value twice;
//   - a phone number belongs to one customer of an organisation;
//   - a Text custom attribute holds a string, a Select attribute the path of
//     option values from the top level down.
//
// Dixa sets no length limit and no format for any end-user field. For
// those the console applies one rule: a value is bounded by the kind of
// value it is, with the same bound wherever it is entered.
//
//	kind               fields                                               bound
//	name or identifier displayName, firstName, lastName, each middle name,   255 characters
//	                   externalId
//	email address      email, each additional email                         254 characters
//	phone number       phoneNumber, each additional phone number            40 characters as typed
//	web address        avatarUrl                                            2048 characters
//	free text          a Text custom attribute                              1000 characters
//	list               middleNames, additionalEmails, additionalPhoneNumbers 20 items
//
// And for every value:
//   - spaces at either end are dropped; an empty value clears the field;
//   - no control characters and nothing that is not UTF-8; free text alone
//     may hold line breaks (a CR LF is kept as LF);
//   - an email address is a plain name@domain.tld: no display name, no
//     quoting, no spaces, a dot inside the domain; emails compare without
//     regard to case;
//   - a phone number is read in any common form; one without a country
//     code is read as a number of the default region; it is stored in
//     E.164 (+4535753719) and must have a possible number of digits for its
//     country;
//   - a web address is an absolute http or https URL with a host;
//   - a list holds no email or phone number twice, nor the customer's
//     primary one (middle names may repeat);
//   - a Select value is an active option (neither it nor a parent option
//     deactivated).
//
// A refused value is an *apperr.Error with Code apperr.Invalid, Field set
// to the API name of the field and a message written for the person
// reading it; its Cause is one of the Err* reasons, for callers that count
// refusals by kind.
package customer
