// Package conversation holds the rules for reading a customer's
// conversations in the console, read-only:
//
//   - A customer's list is read with a large page (CONVERSATIONS_PAGE_LIMIT,
//     50 by default). Dixa does not document its largest page, so an answer
//     of 400 to the first page is taken as "too large": the next smaller
//     size (25, then 10) is tried and, once one works, kept for the life of
//     the process (it is in memory: a restart tries the configured size
//     again).
//   - Dixa lists conversations in an order of its own (the oldest first,
//     as far as is known). The console reads up to MaxListPages pages,
//     orders what it read by creation time, newest first, and puts the
//     open and pending ones (those that need someone, and block an erasure)
//     at the top. It shows at most one page's worth of the others, and says
//     how many it read and whether there are more.
//   - A conversation is shown only on the page of the customer who
//     requested it: its requesterId must be the end user in the URL, or it
//     is "not found", exactly like a conversation that does not exist. Ids
//     are checked before any call to Dixa: the customer's is a UUID, the
//     conversation's a positive whole number.
//   - The conversation, its messages, notes and tags are read in parallel:
//     a view costs at most four calls. Notes and tags that cannot be read
//     are reported as such; the messages and the conversation cannot be
//     left out.
//   - Dixa's message list is not paged, so the console pages it itself:
//     the newest MessagesShown messages first, with the earlier ones on
//     request. A body longer than BodyShown characters is cut, with the
//     whole of it on request.
//   - Message text is shown as text, never as markup: an HTML body is
//     reduced to its text (scripts, styles and other non-content dropped;
//     link targets written out), and the bidirectional override characters
//     that make "invoice‮fdp.exe" look like "invoiceexe.pdf" are written
//     as visible marks. Files are listed by name, never fetched.
package conversation
