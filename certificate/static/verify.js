/* The verification page: read the certificate token from the URL fragment,
 * ask the verification API, and show the answer.
 *
 * The fragment never reaches a server log; the token goes in a POST body.
 * Everything is built with DOM calls and textContent (no innerHTML), and the
 * page's Content-Security-Policy forbids inline scripts, hence this file.
 * Every word comes from the page's JSON (#verify-words), in the page's
 * language (certificate/verify/i18n.py).
 */
(function () {
  "use strict";

  var area = document.getElementById("verify-result");
  var wordsElement = document.getElementById("verify-words");
  if (!area || !wordsElement) {
    return;
  }
  var words = JSON.parse(wordsElement.textContent);
  var apiUrl = area.getAttribute("data-api") || "/api/v1/verify";
  var STATUSES_WITH_CLAIMS = ["valid", "revoked", "expired", "superseded"];

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function day(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) {
      return null;
    }
    return new Date(seconds * 1000).toISOString().slice(0, 10);
  }

  /* The "c" claim groups countries by outcome: "nKETHaNG" (an outcome letter, then the
   * ISO 3166-1 alpha-2 codes with it), or on certificates issued before, the object
   * {"NR": "KETH", "NA": "NG"}; see docs/claims.md. */
  var LETTER_CODES = { n: "NR", r: "RF", i: "IU", a: "NA", f: "FA", c: "NC" };

  function countryOutcomes(claim) {
    var result = {};
    if (typeof claim === "string") {
      var code = null;
      for (var j = 0; j < claim.length;) {
        if (LETTER_CODES[claim[j]]) {
          code = LETTER_CODES[claim[j]];
          j += 1;
        } else {
          if (code) {
            result[claim.slice(j, j + 2)] = code;
          }
          j += 2;
        }
      }
      return result;
    }
    if (!claim || typeof claim !== "object") {
      return result;
    }
    Object.keys(claim).forEach(function (outcome) {
      var codes = String(claim[outcome]);
      for (var i = 0; i + 1 < codes.length; i += 2) {
        result[codes.slice(i, i + 2)] = outcome;
      }
    });
    return result;
  }

  function fact(list, term, value, className, rowClass) {
    if (value === null || value === undefined || value === "") {
      return;
    }
    var row = element("div", rowClass || null);
    row.appendChild(element("dt", null, term));
    row.appendChild(element("dd", className || null, value));
    list.appendChild(row);
  }

  function show(node) {
    while (area.firstChild) {
      area.removeChild(area.firstChild);
    }
    area.appendChild(node);
    area.hidden = false;
  }

  function statusBlock(status, title, reason, tone) {
    var block = element("div", "result result-" + (tone || status));
    block.setAttribute("data-status", status);
    var line = element("p", "result-status");
    line.appendChild(element("span", "result-label", words.status_label || "Status: "));
    line.appendChild(element("span", "result-word", title));
    block.appendChild(line);
    block.appendChild(element("p", "result-reason", reason));
    return block;
  }

  function renderAnswer(answer) {
    var status = answer.status;
    var title = words.statuses[status] || status;
    var reason = words.reasons[status] || answer.reason || "";
    var tone = status;
    var summary = answer.summary;
    if (status === "valid" && summary && typeof summary === "object") {
      /* a genuine certificate leads with what it contains; only an all-clear one is green */
      var verdict = summary.record_found > 0 ? "record_found"
        : (summary.countries > 0 && summary.no_record === summary.countries ? "no_record" : "not_confirmed");
      title = words.headlines[verdict];
      tone = { record_found: "record", not_confirmed: "unconfirmed", no_record: "valid" }[verdict];
    }
    var block = statusBlock(status, title, reason, tone);
    if (answer.summary_text && STATUSES_WITH_CLAIMS.indexOf(status) !== -1) {
      block.insertBefore(element("p", "result-summary", answer.summary_text), block.lastChild);
    }
    var claims = answer.certificate;
    if (!claims || STATUSES_WITH_CLAIMS.indexOf(status) === -1) {
      show(block);
      return;
    }
    if (claims.spc === true) {
      var specimen = element("p", "result-specimen");
      specimen.appendChild(element("strong", null, words.specimen));
      block.appendChild(specimen);
    }
    var facts = element("dl", "facts");
    /* the full name from the service's records; else the claims' (MRZ form, or the names) */
    var person = answer.holder;
    var holder = person
      ? [person.given_names, person.family_name].filter(function (part) { return part; }).join(" ")
      : (claims.n || [claims.gn, claims.fn].filter(function (part) { return part; }).join(" "));
    fact(facts, words.holder, holder);
    fact(facts, words.date_of_birth, claims.dob);
    fact(facts, words.certificate_number, claims.jti, "mono", "fact-wide");
    fact(facts, words.issued, day(claims.iat));
    fact(facts, words.expires, day(claims.exp));
    block.appendChild(facts);
    if (typeof claims.gap === "number" && claims.gap > 0) {
      block.appendChild(element("p", "result-gap", words.gap.replace("{months}", String(claims.gap))));
    }

    var countries = countryOutcomes(claims.c);
    var codes = Object.keys(countries).sort(function (a, b) {
      return (words.countries[a] || a).localeCompare(words.countries[b] || b);
    });
    if (codes.length) {
      var table = element("table", "table outcomes");
      table.appendChild(element("caption", null, words.countries_caption));
      var head = element("thead");
      var headRow = element("tr");
      [words.country, words.outcome].forEach(function (label) {
        var cell = element("th", null, label);
        cell.setAttribute("scope", "col");
        headRow.appendChild(cell);
      });
      head.appendChild(headRow);
      table.appendChild(head);
      var body = element("tbody");
      codes.forEach(function (code) {
        var outcome = String(countries[code]);
        var row = element("tr", "outcome-" + outcome);
        var name = element("th", null, words.countries[code] || code);
        name.setAttribute("scope", "row");
        row.appendChild(name);
        row.appendChild(element("td", null, words.outcomes[outcome] || outcome));
        body.appendChild(row);
      });
      table.appendChild(body);
      block.appendChild(table);
    }
    show(block);
  }

  function renderProblem(text) {
    show(statusBlock("error", words.problem, text));
  }

  function verify(token) {
    show(statusBlock("pending", words.checking, words.checking_text));
    fetch(apiUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        /* the summary comes back in words, in the page's language */
        "Accept-Language": document.documentElement.lang || "en"
      },
      body: JSON.stringify({ token: token }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      if (response.status === 429) {
        renderProblem(words.rate_limited);
        return null;
      }
      return response.json().then(function (body) {
        if (response.ok && body && typeof body.status === "string") {
          renderAnswer(body);
        } else if (response.status === 400) {
          // a token too long or empty is not a certificate of ours
          renderAnswer({ status: "invalid", certificate: null });
        } else {
          renderProblem((body && body.error && body.error.message) || words.service_error);
        }
      });
    }).catch(function () {
      renderProblem(words.unreachable);
    });
  }

  function fromFragment() {
    var token = window.location.hash.replace(/^#/, "").trim();
    if (token) {
      verify(token);
    }
  }

  window.addEventListener("hashchange", fromFragment);
  fromFragment();
})();
