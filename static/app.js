// The console's only script of its own. Everything works without it; it adds
// keyboard shortcuts and moves focus after htmx swaps so that keyboard and
// screen reader users land on what changed.
(function () {
  "use strict";

  // "/" focuses the search box, unless the person is typing somewhere.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var q = document.getElementById("q");
    if (q) {
      e.preventDefault();
      q.focus();
      q.select();
    }
  });

  // After a swap, focus the first error summary, or an element that asks for
  // focus, inside the swapped content. Search-as-you-type swaps keep focus in
  // the search box (the results region is announced through aria-live).
  document.addEventListener("htmx:afterSettle", function (e) {
    var root = e.detail && e.detail.target;
    // After an outerHTML swap the target is detached: find its successor.
    if (root && !root.isConnected && root.id) root = document.getElementById(root.id);
    if (!root || root.id === "results") return;
    var el = root.querySelector("[data-focus], .error-summary, [role=alert]");
    if (!el && root.matches && root.matches("[data-focus], .error-summary, [role=alert]")) el = root;
    if (el) {
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
    }
  });

  // A request that never reached the server (network down): say so in the
  // status region instead of failing silently.
  document.addEventListener("htmx:sendError", function () {
    var s = document.getElementById("status");
    if (s) s.textContent = "The console could not be reached. Check your connection and try again; nothing you typed was lost.";
  });

  // Search as you type: a request sent because the person typed (not one
  // they submitted, or a change of the kind) carries X-Live-Search, so the
  // console searches Dixa only for a term that is already complete.
  document.addEventListener("htmx:configRequest", function (e) {
    var d = e.detail, f = d.elt;
    if (!f || !f.matches || !f.matches("form.search")) return;
    var ev = d.triggeringEvent;
    if (ev && ev.type === "input") d.headers["X-Live-Search"] = "1";
  });

  // Print buttons (data-print) are hidden until this script can run them.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // Confirmation for buttons that ask for it (data-confirm), without eval.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-confirm]");
    if (b && !window.confirm(b.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
