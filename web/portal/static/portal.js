// GoldTicket portal: the split preview (kept vs sent) and the live discount quote. Amounts are
// integer fen throughout; the quote comes from the server (/api/v1/quote), never computed here.
(function () {
  "use strict";
  function fen(text) {
    var m = /^\s*([0-9]{1,3}(?:,[0-9]{3})*|[0-9]+)(?:\.([0-9]{1,2}))?\s*$/.exec(text || "");
    if (!m) return null;
    return parseInt(m[1].replace(/,/g, ""), 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function show(value) {
    var yuan = Math.floor(value / 100), cents = value % 100;
    return "¥" + yuan.toLocaleString("en-US") + "." + (cents < 10 ? "0" : "") + cents;
  }
  var amount = document.getElementById("amount");
  var preview = document.getElementById("preview");
  function split() {
    if (!amount || !preview) return;
    var held = parseInt(amount.getAttribute("data-held"), 10), sent = fen(amount.value);
    if (sent === null || sent <= 0 || sent > held) { preview.textContent = ""; return; }
    preview.textContent = preview.getAttribute("data-sent-label") + " " + show(sent) + " · " +
      preview.getAttribute("data-kept-label") + " " + show(held - sent);
  }
  var quote = document.getElementById("quote");
  var rate = document.getElementById("rate");
  var pending = null, asked = 0;
  function clear(message) {
    // a quote for other figures than those typed is never left standing
    quote.querySelectorAll("[data-q]").forEach(function (cell) { cell.textContent = "–"; });
    var note = quote.parentNode.querySelector("[data-quote-error]");
    if (note) { note.textContent = message || ""; note.hidden = !message; }
  }
  function refresh() {
    if (!quote || !rate || !amount) return;
    var bank = document.getElementById("bank"), option = bank && bank.value ? bank.options[bank.selectedIndex] : null;
    var valueDate = document.getElementById("value_date");
    var params = new URLSearchParams({
      amount_fen: String(fen(amount.value)),
      annual_rate_bp: String(fen(rate.value)),
      value_date: valueDate ? valueDate.value : quote.getAttribute("data-value-date"),
      maturity_date: quote.getAttribute("data-maturity"),
      day_basis: option ? option.getAttribute("data-day-basis") : quote.getAttribute("data-day-basis") || "360",
      fee_bp: option ? option.getAttribute("data-fee-bp") : quote.getAttribute("data-fee-bp") || "0"
    });
    var mine = ++asked;
    if (fen(rate.value) === null) { clear(quote.getAttribute("data-bad-rate")); return; }
    if (fen(amount.value) === null) { clear(quote.getAttribute("data-bad-amount")); return; }
    clear("");
    fetch("/api/v1/quote?" + params.toString(), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (q) {
        if (mine !== asked) return;  // an answer to figures since changed
        if (!q) { clear(quote.getAttribute("data-bad-rate")); return; }
        quote.querySelectorAll("[data-q]").forEach(function (cell) {
          var key = cell.getAttribute("data-q");
          cell.textContent = !q ? "–" : key === "days" ? String(q.days) : show(q[key]);
        });
      });
  }
  function later() { clearTimeout(pending); pending = setTimeout(refresh, 150); }
  [amount, rate, document.getElementById("bank"), document.getElementById("value_date")].forEach(function (el) {
    if (el) { el.addEventListener("input", function () { split(); later(); }); el.addEventListener("change", later); }
  });
  split(); refresh();
})();
