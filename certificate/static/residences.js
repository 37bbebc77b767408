/* "Add another period" on the filing form, without a round trip.
 *
 * Without JavaScript the same button submits the form, and the server answers
 * with more empty lines; here it clones the last line and renumbers it.
 */
(function () {
  "use strict";

  var list = document.querySelector("[data-residence-list]");
  var button = document.querySelector("[data-add-residence]");
  var MAX_ROWS = 40;
  if (!list || !button) {
    return;
  }

  function renumber(node, index) {
    ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
      var value = node.getAttribute(attribute);
      if (value) {
        node.setAttribute(attribute, value.replace(/residences-\d+-/g, "residences-" + index + "-"));
      }
    });
  }

  function addRow() {
    var rows = list.querySelectorAll("[data-residence-row]");
    if (rows.length >= MAX_ROWS) {
      return;
    }
    var index = rows.length;
    var row = rows[rows.length - 1].cloneNode(true);
    row.querySelectorAll(".error-message").forEach(function (node) { node.remove(); });
    row.querySelectorAll(".field-invalid").forEach(function (node) { node.classList.remove("field-invalid"); });
    row.querySelectorAll("*").forEach(function (node) {
      renumber(node, index);
      node.removeAttribute("aria-invalid");
      var described = node.getAttribute("aria-describedby");
      if (described) {
        var kept = described.split(/\s+/).filter(function (id) { return !/-error$/.test(id); }).join(" ");
        if (kept) {
          node.setAttribute("aria-describedby", kept);
        } else {
          node.removeAttribute("aria-describedby");
        }
      }
    });
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    var legend = row.querySelector(".row-legend");
    if (legend) {
      legend.textContent = "Period " + (index + 1);
    }
    list.appendChild(row);
    var first = row.querySelector("select, input");
    if (first) {
      first.focus();
    }
    if (index + 1 >= MAX_ROWS) {
      button.hidden = true;
    }
  }

  button.addEventListener("click", function (event) {
    event.preventDefault();
    addRow();
  });
})();
