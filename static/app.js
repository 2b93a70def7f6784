// The console's only script of its own. Everything works without it; it adds
// keyboard shortcuts, moves focus after htmx swaps so that keyboard and
// screen reader users land on what changed, reports the browser's time
// zone, keeps search history tidy, copies IDs, and guards the edit form.
(function () {
  "use strict";

  // The browser's time zone, so that the pages that follow show dates in
  // it: a cookie under the console's path, which the server checks. Dates
  // are shown in UTC, labelled, until it is there.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var me = document.currentScript && new URL(document.currentScript.src, location.href).pathname;
    var base = me ? me.replace(/\/static\/[^\/]*$/, "") : "";
    if (tz && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(tz) && document.cookie.split("; ").indexOf("tz=" + tz) < 0) {
      document.cookie = "tz=" + tz + "; path=" + (base || "/") + "; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
    }
  } catch (err) { /* no Intl: dates stay in UTC */ }

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

  // The header search box is a plain GET form to the customer list; htmx
  // takes it over only on a page that shows the results region. Should
  // that region be gone (an error took its place), the browser submits the
  // form itself instead of htmx failing without a word.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f && f.matches && f.matches("form.search[hx-get]") && !document.getElementById("results")) {
      e.stopPropagation(); // htmx listens on the form itself
    }
  }, true);

  // Browser history: typing in the search box replaces the address (a
  // reload shows the same results) instead of adding an entry per pause.
  // A submitted search (Enter, the button), or typing that found a
  // customer by a complete identifier, adds one entry, unless the address
  // is already that search's. The choice is made per answer, before htmx
  // reads hx-push-url and hx-replace-url.
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    var d = e.detail, f = d.elt;
    if (!f || !f.matches || !f.matches("form.search")) return;
    var ev = d.requestConfig && d.requestConfig.triggeringEvent;
    var to = new URL(d.pathInfo.finalRequestPath, location.href);
    var found = d.xhr.status === 200 && to.searchParams.get("q") && d.xhr.responseText.indexOf('data-testid="enduser-row"') >= 0;
    var push = ((ev && ev.type === "submit") || found) && to.href !== location.href;
    f.removeAttribute(push ? "hx-replace-url" : "hx-push-url");
    f.setAttribute(push ? "hx-push-url" : "hx-replace-url", "true");
  });

  // An error answered to the search is shown inside the results region,
  // so that the region, and searching again, stay.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (d.target && d.target.id === "results" && d.xhr.status >= 400 && !/\bid="results"/.test(d.serverResponse)) {
      d.swapOverride = "innerHTML";
    }
  });

  // A request that never reached the server (network down): say so in the
  // status region instead of failing silently.
  document.addEventListener("htmx:sendError", function () {
    var s = document.getElementById("status");
    if (s) s.textContent = "The console could not be reached. Check your connection and try again; nothing you typed was lost.";
  });

  // The edit form: the cursor starts in its first field, and leaving the
  // page with unsaved changes asks first. Saving does not ask (a save that
  // succeeds leaves the page); one that comes back with the form (422,
  // 409) asks again, since nothing was saved. The form is swapped by htmx,
  // so it is looked up each time; what it started with is kept.
  var editForm = function () { return document.getElementById("profile-form"); };
  var formValues = function (f) {
    var v = {};
    Array.prototype.forEach.call(f.elements, function (el) {
      if (!el.name || /^(hidden|submit|button|reset|radio|checkbox)$/.test(el.type)) return;
      v[el.name] = el.value;
    });
    return v;
  };
  if (editForm()) {
    var started = formValues(editForm()), saving = false;
    var first = editForm().querySelector("input:not([type=hidden]), textarea, select");
    if (first && !document.querySelector(".error-summary")) {
      first.focus();
      try { first.setSelectionRange(first.value.length, first.value.length); } catch (err) { /* not a text field */ }
    }
    document.addEventListener("submit", function (e) {
      if (e.target === editForm()) saving = true;
    });
    // The form came back (it replaced itself, so its own events no longer
    // reach the document), or the request failed without an answer.
    document.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target && e.detail.target.id === "profile-form-region") saving = false;
    });
    document.addEventListener("htmx:afterRequest", function (e) {
      var d = e.detail;
      if (d.elt && d.elt.id === "profile-form" && !(d.xhr && d.xhr.getResponseHeader("HX-Redirect"))) saving = false;
    });
    window.addEventListener("beforeunload", function (e) {
      var f = editForm();
      if (!f || saving) return;
      var now = formValues(f);
      for (var k in started) {
        if (k in now && now[k] !== started[k]) {
          e.preventDefault();
          e.returnValue = "";
          return;
        }
      }
    });
  }

  // Copy buttons (data-copy) are hidden until this script can run them.
  // The value is copied with the Clipboard API, or, where that is missing
  // (a page not served over HTTPS), by selecting it and copying the
  // selection; the status region announces the outcome.
  var say = function (msg) {
    var s = document.getElementById("status");
    if (!s) return;
    s.textContent = "";
    setTimeout(function () { s.textContent = msg; }, 50);
  };
  var copied = function (b) {
    say("Copied");
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = "Copy"; }, 2000);
  };
  var copyBySelection = function (b) {
    var code = b.parentNode && b.parentNode.querySelector("code");
    if (!code) return false;
    var r = document.createRange();
    r.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
    try { return document.execCommand("copy"); } catch (err) { return false; }
  };
  var showCopyButtons = function (root) {
    root.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  };
  showCopyButtons(document);
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.target && e.detail.target.isConnected) showCopyButtons(e.detail.target);
    else showCopyButtons(document);
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var v = b.getAttribute("data-copy");
    var fallback = function () {
      if (copyBySelection(b)) copied(b);
      else say("Select the ID and copy it with your keyboard.");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(v).then(function () { copied(b); }, fallback);
    } else {
      fallback();
    }
  });

  // Copying a phone number that is shown in international format
  // ("+45 35 75 37 19") gives its E.164 form ("+4535753719").
  document.addEventListener("copy", function (e) {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !e.clipboardData) return;
    var el = function (n) { return n && (n.nodeType === 1 ? n : n.parentElement); };
    var a = el(sel.anchorNode), f = el(sel.focusNode);
    a = a && a.closest("[data-e164]");
    if (!a || a !== (f && f.closest("[data-e164]"))) return;
    e.clipboardData.setData("text/plain", a.getAttribute("data-e164"));
    e.preventDefault();
  });

  // Print buttons (data-print) are hidden until this script can run them.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // A search sent while typing (not by Enter or the button) says so: the
  // server then searches only a whole identifier and otherwise says what
  // Enter would search.
  document.addEventListener("htmx:configRequest", function (e) {
    var d = e.detail, f = d.elt;
    if (f && f.matches && f.matches("form.search") && !(d.triggeringEvent && d.triggeringEvent.type === "submit")) {
      d.headers["X-Search-Typing"] = "1";
    }
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
