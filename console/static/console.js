// learnloop console: progressive enhancement only. Every page works without
// this script (forms post, the board refreshes itself via <noscript>).
(function () {
  "use strict";

  // Confirmations: a form with data-confirm asks in a dialog first. Without
  // JavaScript the server shows a confirmation page instead.
  var pending = null;
  var deferred = null; // a board update that arrived while a dialog was open
  var replaceBoard = function () {};
  function ask(form) {
    var dlg = document.getElementById("confirm-dialog");
    if (!dlg || typeof dlg.showModal !== "function") {
      return window.confirm(form.getAttribute("data-confirm")) ? submitConfirmed(form) : null;
    }
    pending = form;
    document.getElementById("confirm-text").textContent = form.getAttribute("data-confirm");
    dlg.returnValue = "";
    dlg.showModal();
    document.getElementById("confirm-ok").focus();
  }
  function submitConfirmed(form) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "confirmed";
    input.value = "1";
    form.appendChild(input);
    form.setAttribute("data-confirmed", "1");
    HTMLFormElement.prototype.submit.call(form);
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm") || form.hasAttribute("data-confirmed")) return;
    ev.preventDefault();
    ask(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var dlg = document.getElementById("confirm-dialog");
    if (dlg) {
      dlg.addEventListener("close", function () {
        var form = pending;
        pending = null;
        if (form && dlg.returnValue === "ok") { submitConfirmed(form); return; }
        if (deferred) { var html = deferred; deferred = null; replaceBoard(html); }
      });
    }
    live();
    tabs();
    previews();
  });

  // Tabs: a nav[data-tabs] of links to panels on the same page. Without
  // JavaScript every panel shows and the links are anchors; with it one
  // panel shows at a time: the one holding the address's #fragment, else
  // the one with a form error, else the first.
  function tabs() {
    var nav = document.querySelector("nav[data-tabs]");
    if (!nav) return;
    var links = Array.prototype.slice.call(nav.querySelectorAll("a[data-tab]"));
    var panels = links.map(function (a) { return document.getElementById(a.getAttribute("data-tab")); });
    if (panels.some(function (p) { return !p; })) return;
    function show(i) {
      panels.forEach(function (p, k) { p.hidden = k !== i; });
      links.forEach(function (a, k) {
        if (k === i) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
      });
    }
    function holding(el) {
      for (var k = 0; el && k < panels.length; k++) if (panels[k].contains(el)) return k;
      return -1;
    }
    function pick() {
      var id = decodeURIComponent(location.hash.slice(1));
      var i = id ? holding(document.getElementById(id)) : -1;
      if (i < 0) i = holding(document.querySelector(".tab-panel .form-error"));
      show(i < 0 ? 0 : i);
    }
    links.forEach(function (a, i) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        show(i);
        if (history.replaceState) history.replaceState(null, "", "#" + panels[i].id);
      });
    });
    window.addEventListener("hashchange", pick);
    pick();
  }

  // Live board: server-sent events, or polling where EventSource is missing
  // or keeps failing.
  function live() {
    var board = document.getElementById("board-live");
    var status = document.getElementById("live-status");
    if (!board) return;
    function setStatus(ok) {
      if (!status) return;
      status.textContent = status.getAttribute(ok ? "data-ok" : "data-lost");
      status.className = "live " + (ok ? "on" : "lost");
    }
    function replace(html) {
      if (pending) { deferred = html; return; }
      replaceBoard(html);
    }
    replaceBoard = function (html) {
      var cur = document.getElementById("board-live");
      if (!cur || !html) return;
      var tmp = document.createElement("div");
      tmp.innerHTML = html.trim();
      var next = tmp.firstElementChild;
      if (next && next.id === "board-live") cur.replaceWith(next);
    };
    var failures = 0;
    function poll() {
      var cur = document.getElementById("board-live");
      var url = cur.getAttribute("data-poll") + "?v=" + encodeURIComponent(cur.getAttribute("data-version") || "");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          setStatus(r.ok);
          if (r.status === 200) return r.text().then(replace);
        })
        .catch(function () { setStatus(false); })
        .then(function () { setTimeout(poll, 3000); });
    }
    if (!window.EventSource) { poll(); return; }
    var es = new EventSource(board.getAttribute("data-events"));
    es.addEventListener("open", function () { failures = 0; setStatus(true); });
    es.addEventListener("board", function (ev) { setStatus(true); replace(ev.data); });
    es.addEventListener("error", function () {
      setStatus(false);
      failures++;
      if (failures >= 5) { es.close(); poll(); }
    });
  }

  // Fire-time previews: a form[data-preview] posts itself with preview=1
  // as it is filled in, and the server answers with its #tp-preview
  // fragment, computed by the scheduler's own rules (nothing is stored).
  // Without JavaScript the form's 预览 button does the same with a reload.
  function previews() {
    if (!window.fetch || !window.FormData || !window.URLSearchParams) return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-preview]"), function (form) {
      var box = form.querySelector("#tp-preview");
      if (!box) return;
      var timer = null;
      var seq = 0;
      function run() {
        var body = new URLSearchParams(new FormData(form));
        body.set("preview", "1");
        var mine = ++seq;
        box.setAttribute("aria-busy", "true");
        fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Learnloop-Preview": "1" } })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            if (mine !== seq) return;
            var tmp = document.createElement("div");
            tmp.innerHTML = html;
            var fresh = tmp.querySelector("#tp-preview");
            if (fresh) box.innerHTML = fresh.innerHTML;
          })
          .catch(function () {})
          .then(function () { if (mine === seq) box.removeAttribute("aria-busy"); });
      }
      function later() { clearTimeout(timer); timer = setTimeout(run, 250); }
      form.addEventListener("input", later);
      form.addEventListener("change", later);
      run();
    });
  }
})();
