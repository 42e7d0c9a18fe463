// learnloop console, campaign form: the audience's live count while the
// rules are typed. Without this script the "count and preview" button
// posts the form and the page shows the count.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("campaign-form");
    var out = document.getElementById("audience-count");
    var box = document.getElementById("audience");
    if (!form || !out || !box) return;
    var url = form.getAttribute("data-count-url");
    var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    var timer = null, seq = 0;
    function count() {
      var body = new URLSearchParams();
      box.querySelectorAll("input").forEach(function (el) { if (el.name) body.append(el.name, el.value); });
      var mine = ++seq;
      fetch(url, { method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (mine !== seq) return;
          out.textContent = j.text || j.error || "";
          out.setAttribute("data-count", j.count === undefined ? "" : String(j.count));
        })
        .catch(function () {});
    }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(count, 300);
    });
    count();
  });
})();
