// Hookline dashboard, inbound pages: the ingest URL's copy button. The URL
// stays selectable text without this script.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      if (!el) return;
      var text = el.textContent.trim();
      var done = function () {
        var label = b.textContent;
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(el); });
        return;
      }
      // Plain http on another host: no clipboard API, so select the URL
      // and let execCommand (or the person) copy it.
      selectText(el);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected, at least */ }
    });
  });
});

function selectText(el) {
  var range = document.createRange();
  range.selectNodeContents(el);
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}
