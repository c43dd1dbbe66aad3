// Accessibility repairs to mdBook's own page furniture (its theme is used as shipped, so these
// run in the page rather than in a copied template that would drift from mdBook's):
// - the sidebar toggle is a <label> carrying a button's ARIA (name, expanded): make it a
//   real button for screen readers and reachable by keyboard;
// - code boxes and tables wider than the page scroll sideways: a keyboard user must be able
//   to focus them to scroll;
// - Markdown task lists (`- [ ]`) render unlabelled checkboxes: name each after its item.
(function () {
  "use strict";

  function sidebarToggle() {
    var toggle = document.getElementById("mdbook-sidebar-toggle");
    if (!toggle || toggle.tagName !== "LABEL") return;
    toggle.setAttribute("role", "button");
    toggle.tabIndex = 0;
    toggle.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggle.click();
      }
    });
  }

  function scrollableBoxes() {
    document.querySelectorAll("pre > code, .table-wrapper").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (box.tagName === "CODE" ? "code" : "table") + ", scrolls sideways");
      }
    });
  }

  function taskLists() {
    document.querySelectorAll("li > input[type=checkbox][disabled]").forEach(function (box) {
      if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", box.parentNode.textContent.trim().slice(0, 120));
    });
  }

  function start() {
    sidebarToggle();
    scrollableBoxes();
    taskLists();
    window.addEventListener("resize", scrollableBoxes);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
