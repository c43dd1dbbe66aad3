// The check widget: wires each step's "Check my progress" button to the grader that
// serves the book (`grader serve`), or, on a hosted copy built with `--grader-url`, to the
// learner's own `grader serve --api-only` (its token pasted once, kept in this browser);
// and explains what to do when there is neither. The grader streams the run's events (one
// JSON line each), so each check shows as it is decided, a waiting check says what it saw
// and when it looks again, and Cancel stops the run.
(function () {
  "use strict";
  var tokenMeta = document.querySelector('meta[name="grader-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : null;
  var MARKS = { pass: "✓", fail: "✗", error: "!", skip: "–" };
  // The verdict in words, for screen readers: the icon is hidden from them and colour alone
  // tells nothing.
  var WORDS = { pass: "Passed: ", fail: "Failed: ", error: "Could not decide: ", skip: "Skipped: ", running: "Checking: ", waiting: "Waiting: " };

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

  function item(widget, id) {
    return widget.querySelector('li[data-check="' + id + '"]');
  }

  // One check's verdict, with what was expected and found when it did not pass.
  function renderCheck(widget, check) {
    var li = item(widget, check.id);
    if (!li) return;
    li.setAttribute("data-status", check.status);
    li.querySelector(".grader-mark").textContent = MARKS[check.status] || "?";
    var result = li.querySelector(".grader-result");
    result.textContent = "";
    result.appendChild(el("span", "grader-sr", WORDS[check.status] || ""));
    result.appendChild(inline("grader-message", check.message));
    [["expected", check.expected], ["found", check.found], ["hint", check.hint]].forEach(function (pair) {
      if (pair[1] && check.status !== "pass") {
        var line = inline("grader-detail", pair[1]);
        line.insertBefore(el("span", "grader-label", pair[0] + ": "), line.firstChild);
        result.appendChild(line);
      }
    });
  }

  // A check still at work: checking, or waiting for the account to change.
  function renderPending(widget, id, status, text) {
    var li = item(widget, id);
    if (!li) return;
    li.setAttribute("data-status", status);
    li.querySelector(".grader-mark").textContent = "…";
    var result = li.querySelector(".grader-result");
    result.textContent = "";
    result.appendChild(el("span", "grader-sr", WORDS[status] || ""));
    result.appendChild(inline("grader-message grader-pending", text));
  }

  function seconds(ms) {
    return Math.round(ms / 1000) + "s";
  }

  function onEvent(widget, event) {
    if (event.event === "run_started") {
      showMessage(widget, "grader-running", "Checking account " + event.account + " in " + event.region + "…");
    } else if (event.event === "check_started") {
      renderPending(widget, event.check, "running", "checking…");
    } else if (event.event === "check_waiting") {
      var text = event.message + " — waiting " + seconds(event.elapsed_ms) + " of " + seconds(event.limit_ms) + ", looking again in " + seconds(event.retry_in_ms);
      renderPending(widget, event.check, "waiting", text);
      showMessage(widget, "grader-running grader-waiting", event.check + ": " + text);
    } else if (event.event === "check_finished") {
      renderCheck(widget, event.check);
    } else if (event.event === "run_finished") {
      renderReport(widget, event.report);
    }
  }

  // Calls `onLine` with each JSON line of a streamed body, as it arrives.
  function readLines(body, onLine) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (buffer.trim()) onLine(JSON.parse(buffer));
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var lines = buffer.split("\n");
        buffer = lines.pop();
        lines.forEach(function (line) { if (line.trim()) onLine(JSON.parse(line)); });
        return pump();
      });
    }
    return pump();
  }

  function renderReport(widget, report) {
    var step = (report.steps || [])[0];
    if (!step) return;
    (step.checks || []).forEach(function (check) { renderCheck(widget, check); });
    var s = report.summary;
    showMessage(widget, "grader-" + step.status, step.status === "pass"
      ? "All " + s.pass + " check(s) pass. Well done — on to the next step."
      : s.pass + " passed, " + s.fail + " failed, " + s.error + " could not be decided, " + s.skip + " skipped.", MARKS[step.status] || "?");
    widget.setAttribute("data-status", step.status);
  }

  // Writes the status line (a live region: screen readers announce it); `mark`, an icon
  // shown before the words and hidden from screen readers, which read the words.
  function showMessage(widget, cls, text, mark) {
    var status = widget.querySelector(".grader-status");
    status.className = "grader-status " + cls;
    status.textContent = "";
    if (mark) status.appendChild(el("span", "grader-status-mark", mark + " ")).setAttribute("aria-hidden", "true");
    status.appendChild(document.createTextNode(text));
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

  // The Cancel button next to "Check my progress", shown while a check runs.
  function cancelButton(widget) {
    var cancel = widget.querySelector(".grader-cancel");
    if (!cancel) {
      cancel = el("button", "grader-cancel", "Cancel");
      cancel.type = "button";
      cancel.hidden = true;
      var button = widget.querySelector(".grader-button");
      button.parentNode.insertBefore(cancel, button.nextSibling);
    }
    return cancel;
  }

  // POSTs the step's check to the grader at `base` ("" = the one serving this page) and
  // follows its events as they stream in.
  function runCheck(widget, base, token, onRefused) {
    var step = widget.getAttribute("data-grader-step");
    var button = widget.querySelector(".grader-button");
    var cancel = cancelButton(widget);
    var controller = window.AbortController ? new AbortController() : null;
    // A keyboard user who pressed the button keeps a focus: it moves to Cancel while the
    // button is disabled, and back when the run ends.
    var hadFocus = document.activeElement === button;
    button.disabled = true;
    widget.removeAttribute("data-status");
    showMessage(widget, "grader-running", "Checking your AWS account…");
    if (controller) {
      cancel.hidden = false;
      cancel.onclick = function () { controller.abort(); };
      if (hadFocus) cancel.focus();
    }
    var headers = { "X-Grader-Token": token, "Accept": "application/x-ndjson" };
    var lab = widget.getAttribute("data-grader-lab");
    var url = base + "/api/check/" + encodeURIComponent(step) + (lab ? "?lab=" + encodeURIComponent(lab) : "");
    fetch(url, { method: "POST", headers: headers, signal: controller ? controller.signal : undefined })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (r.ok && type.indexOf("application/x-ndjson") !== -1 && r.body && r.body.getReader) {
          return readLines(r.body, function (event) { onEvent(widget, event); });
        }
        return r.json().then(function (body) {
          if (r.ok) renderReport(widget, body);
          else if (r.status === 403 && onRefused) onRefused(body.message);
          else showMessage(widget, "grader-error", body.message || "The grader refused the request.");
        });
      })
      .catch(function (e) {
        if (e && e.name === "AbortError") {
          showMessage(widget, "grader-cancelled", "Check cancelled. Press the button to check again.");
          return;
        }
        showMessage(widget, "grader-error", base
          ? "No grader answered at " + base + ". Start it in your terminal with `grader serve --api-only --allow-origin " + window.location.origin + "`."
          : "The grader did not answer. Is `grader serve` still running in your terminal?");
      })
      .finally(function () {
        var cancelHadFocus = document.activeElement === cancel;
        button.disabled = false;
        cancel.hidden = true;
        if (cancelHadFocus) button.focus();
      });
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
          var lab = widget.getAttribute("data-grader-lab");
          var steps = (progress.labs && lab && progress.labs[lab]) || progress.steps;
          var last = steps[widget.getAttribute("data-grader-step")];
          if (last && !widget.getAttribute("data-status")) {
            var when = new Date(last.checked_at * 1000).toLocaleString();
            showMessage(widget, "grader-" + last.status, "Last check (" + when + "): " + last.status + ".", MARKS[last.status] || "?");
          }
        });
        document.querySelectorAll(".sidebar a[href]").forEach(function (link) {
          var m = /(step-\d+|cleanup)/.exec(link.getAttribute("href"));
          var last = m && progress.steps[m[1]];
          if (last && !link.querySelector(".grader-side")) {
            var side = el("span", "grader-side grader-" + last.status, " " + (MARKS[last.status] || ""));
            // Read as words: "step 4, passed".
            side.setAttribute("role", "img");
            side.setAttribute("aria-label", ({ pass: "passed", fail: "failed", error: "could not decide", skip: "skipped" })[last.status] || last.status);
            link.appendChild(side);
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
