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
  });

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
})();
