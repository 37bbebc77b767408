// Every page's forms. After a failed submit the error summary takes the focus, so a
// screen reader reads it first and a keyboard user starts from it. Date fields say the
// format this browser shows for them (it follows the browser's locale, not the page's).
(function () {
  "use strict";

  function focusSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary) { return; }
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  function browserPattern(letters) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit" })
        .formatToParts(new Date(2006, 10, 22));
      return parts.map(function (part) {
        return letters[part.type] || part.value.replace(/[\u200e\u200f]/g, "");
      }).join("");
    } catch (error) {
      return "";
    }
  }

  function describeDates() {
    var spans = document.querySelectorAll("[data-date-format]");
    Array.prototype.forEach.call(spans, function (span) {
      var pattern = browserPattern({
        year: span.getAttribute("data-year"),
        month: span.getAttribute("data-month"),
        day: span.getAttribute("data-day")
      });
      var template = span.getAttribute("data-template");
      if (pattern && template) { span.textContent = " " + template.replace("{pattern}", pattern); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    describeDates();
    focusSummary();
  });
})();
