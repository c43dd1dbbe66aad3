// Renders ```mermaid diagrams from the bundled mermaid.min.js: no CDN, works offline.
(function () {
  "use strict";
  var dark = ["coal", "navy", "ayu"].some(function (t) { return document.documentElement.classList.contains(t); });
  mermaid.initialize({ startOnLoad: true, theme: dark ? "dark" : "default", securityLevel: "strict" });
})();
