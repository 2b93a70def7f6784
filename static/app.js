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

  // Print buttons (data-print) are hidden until this script can run them.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // Disclosure buttons (data-disclosure) show and hide the element named by
  // their aria-controls, and say so in aria-expanded. The first time, an
  // empty element is filled (htmx) from the link that follows the button:
  // the same content as a fragment. The buttons stay hidden until this
  // script runs; without it, that link opens the content as a page.
  var showDisclosures = function (root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("[data-disclosure]")) root.hidden = false;
    root.querySelectorAll("[data-disclosure][hidden]").forEach(function (b) { b.hidden = false; });
  };
  showDisclosures(document);
  document.addEventListener("htmx:load", function (e) { showDisclosures(e.detail && e.detail.elt); });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-disclosure]");
    var region = b && document.getElementById(b.getAttribute("aria-controls"));
    if (!region) return;
    var open = b.getAttribute("aria-expanded") !== "true";
    b.setAttribute("aria-expanded", open ? "true" : "false");
    region.hidden = !open;
    var link = b.nextElementSibling, slot = region.querySelector("td") || region;
    if (open && !slot.hasChildNodes() && link && link.matches("a[href]") && window.htmx) {
      slot.textContent = "Loading…";
      window.htmx.ajax("GET", link.getAttribute("href"), { target: slot, swap: "innerHTML" });
    }
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
