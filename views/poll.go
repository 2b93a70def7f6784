package views

// PollHeader marks a request the browser makes on its own, polling a page
// that follows something (an import job, an erasure): the server answers
// it but does not count it as the person using the console, so a
// forgotten tab still reaches the idle timeout.
// Polling elements send it with hx-headers='{"X-Console-Poll": "1"}'.
const PollHeader = "X-Console-Poll"
