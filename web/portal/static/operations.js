// GoldTicket operations console: every few seconds, the panel again from the server (the
// figures and their HTML, operator only), so the page shows a node going down without a reload.
(function () {
  "use strict";
  var panel = document.getElementById("ops-panel");
  if (!panel) return;
  var stale = document.getElementById("ops-stale");
  var every = Math.max(2, parseInt(panel.getAttribute("data-refresh"), 10) || 5) * 1000;
  function refresh() {
    fetch(panel.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        panel.innerHTML = data.panel;
        if (stale) stale.hidden = true;
      })
      .catch(function () { if (stale) stale.hidden = false; })
      .then(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
