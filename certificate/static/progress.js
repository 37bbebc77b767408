// The progress page follows its checks without reloading: while the server marks the
// region data-poll="on", fetch the page every few seconds, swap the region in when it
// changed, and say what changed in the polite status line. Keyboard focus and scroll
// position stay where the reader left them. Without JavaScript the page is still whole:
// reloading it shows the same.
(function () {
  "use strict";
  var INTERVAL_MS = 3000;
  var MAX_INTERVAL_MS = 60000;

  function region(doc) { return doc.getElementById("progress-live"); }

  function schedule(delay) { window.setTimeout(function () { poll(delay); }, delay); }

  function poll(delay) {
    var current = region(document);
    if (!current || current.getAttribute("data-poll") !== "on") { return; }
    var wait = typeof delay === "number" ? delay : INTERVAL_MS;
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = region(new DOMParser().parseFromString(html, "text/html"));
        if (!fresh) { return; }
        if (fresh.innerHTML !== current.innerHTML) {
          current.innerHTML = fresh.innerHTML;
          var announce = document.getElementById("progress-announce");
          if (announce) { announce.textContent = fresh.getAttribute("data-announce") || ""; }
        }
        current.setAttribute("data-poll", fresh.getAttribute("data-poll") || "off");
        current.setAttribute("data-announce", fresh.getAttribute("data-announce") || "");
        schedule(INTERVAL_MS);
      })
      .catch(function () { schedule(Math.min(wait * 2, MAX_INTERVAL_MS)); });
  }

  document.addEventListener("DOMContentLoaded", function () { schedule(INTERVAL_MS); });
})();
