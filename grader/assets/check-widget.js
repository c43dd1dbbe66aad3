// The check widget: wires each step's "Check my progress" button to the grader that
// serves the book (`grader serve`), or, on a hosted copy built with `--grader-url`, to the
// learner's own `grader serve --api-only` (its token pasted once, kept in this browser);
// and explains what to do when there is neither.
(function () {
  "use strict";
  var tokenMeta = document.querySelector('meta[name="grader-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : null;
  var MARKS = { pass: "✓", fail: "✗", error: "!", skip: "–" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Text from the grader marks names with backticks; show them as code, never as HTML.
  function inline(cls, text) {
    var e = el("div", cls);
    String(text).split("`").forEach(function (part, i) {
      e.appendChild(i % 2 === 1 ? el("code", null, part) : document.createTextNode(part));
    });
    return e;
  }

  function renderReport(widget, report) {
    var step = (report.steps || [])[0];
    if (!step) return;
    (step.checks || []).forEach(function (check) {
      var item = widget.querySelector('li[data-check="' + check.id + '"]');
      if (!item) return;
      item.setAttribute("data-status", check.status);
      item.querySelector(".grader-mark").textContent = MARKS[check.status] || "?";
      var result = item.querySelector(".grader-result");
      result.textContent = "";
      result.appendChild(inline("grader-message", check.message));
      [["expected", check.expected], ["found", check.found], ["hint", check.hint]].forEach(function (pair) {
        if (pair[1] && check.status !== "pass") {
          var line = inline("grader-detail", pair[1]);
          line.insertBefore(el("span", "grader-label", pair[0] + ": "), line.firstChild);
          result.appendChild(line);
        }
      });
    });
    var s = report.summary;
    var status = widget.querySelector(".grader-status");
    status.className = "grader-status grader-" + step.status;
    status.textContent = step.status === "pass"
      ? "All " + s.pass + " check(s) pass. Well done — on to the next step."
      : s.pass + " passed, " + s.fail + " failed, " + s.error + " could not be decided, " + s.skip + " skipped.";
    widget.setAttribute("data-status", step.status);
  }

  function showMessage(widget, cls, text) {
    var status = widget.querySelector(".grader-status");
    status.className = "grader-status " + cls;
    status.textContent = text;
  }

  // The learner's grader for a hosted copy: its address, and the token it printed.
  function remoteToken(url) {
    try { return window.localStorage.getItem("grader-token@" + url); } catch (e) { return null; }
  }
  function saveRemoteToken(url, value) {
    try {
      if (value) window.localStorage.setItem("grader-token@" + url, value);
      else window.localStorage.removeItem("grader-token@" + url);
    } catch (e) { /* private browsing: the token lasts for this page only */ }
  }

  // Asks for the token `grader serve --api-only` printed, then calls `then(token)`.
  function askToken(widget, url, note, then) {
    var status = widget.querySelector(".grader-status");
    status.className = "grader-status grader-token-needed";
    status.textContent = "";
    status.appendChild(inline("grader-message", note + " Paste the token that `grader serve --api-only` printed in your terminal:"));
    var form = el("form", "grader-token-form");
    var input = el("input", "grader-token-input");
    input.type = "text";
    input.autocomplete = "off";
    input.setAttribute("aria-label", "grader token");
    var save = el("button", "grader-token-save", "Save and check");
    save.type = "submit";
    form.appendChild(input);
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value.trim();
      if (!value) return;
      saveRemoteToken(url, value);
      then(value);
    });
    status.appendChild(form);
    input.focus();
  }

  // POSTs the step's check to the grader at `base` ("" = the one serving this page).
  function runCheck(widget, base, token, onRefused) {
    var step = widget.getAttribute("data-grader-step");
    var button = widget.querySelector(".grader-button");
    button.disabled = true;
    showMessage(widget, "grader-running", "Checking your AWS account… (this can take up to a minute)");
    fetch(base + "/api/check/" + encodeURIComponent(step), { method: "POST", headers: { "X-Grader-Token": token } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); })
      .then(function (res) {
        if (res.ok) renderReport(widget, res.body);
        else if (res.status === 403 && onRefused) onRefused(res.body.message);
        else showMessage(widget, "grader-error", res.body.message || "The grader refused the request.");
      })
      .catch(function () {
        showMessage(widget, "grader-error", base
          ? "No grader answered at " + base + ". Start it in your terminal with `grader serve --api-only --allow-origin " + window.location.origin + "`."
          : "The grader did not answer. Is `grader serve` still running in your terminal?");
      })
      .finally(function () { button.disabled = false; });
  }

  function setup(widget) {
    var step = widget.getAttribute("data-grader-step");
    var button = widget.querySelector(".grader-button");
    var remote = widget.getAttribute("data-grader-url");
    if (token) {
      button.addEventListener("click", function () { runCheck(widget, "", token); });
      return;
    }
    if (remote) {
      var base = remote.replace(/\/+$/, "");
      var check = function (value) {
        runCheck(widget, base, value, function (message) {
          // A restarted grader has a new token: forget the old one and ask again.
          saveRemoteToken(base, null);
          askToken(widget, base, message || "The grader refused the token.", check);
        });
      };
      button.addEventListener("click", function () {
        var saved = remoteToken(base);
        if (saved) check(saved);
        else askToken(widget, base, "This page checks your account through the grader on your computer.", check);
      });
      return;
    }
    // Hosted as plain files: no grader behind the page.
    button.addEventListener("click", function () {
      showMessage(widget, "grader-offline",
        "This copy of the course is not connected to a grader. Run `grader check " + step +
        "` in your terminal, or open the course with `grader serve` to use this button.");
    });
  }

  function showProgress(widgets) {
    if (!token) return;
    fetch("/api/progress", { headers: { "X-Grader-Token": token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (progress) {
        if (!progress) return;
        widgets.forEach(function (widget) {
          var last = progress.steps[widget.getAttribute("data-grader-step")];
          if (last && !widget.getAttribute("data-status")) {
            var when = new Date(last.checked_at * 1000).toLocaleString();
            showMessage(widget, "grader-" + last.status, "Last check (" + when + "): " + last.status + ".");
          }
        });
        document.querySelectorAll(".sidebar a[href]").forEach(function (link) {
          var m = /(step-\d+|cleanup)/.exec(link.getAttribute("href"));
          var last = m && progress.steps[m[1]];
          if (last && !link.querySelector(".grader-side")) {
            link.appendChild(el("span", "grader-side grader-" + last.status, " " + (MARKS[last.status] || "")));
          }
        });
      })
      .catch(function () {});
  }

  function start() {
    var widgets = Array.prototype.slice.call(document.querySelectorAll(".grader-check"));
    widgets.forEach(setup);
    showProgress(widgets);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
