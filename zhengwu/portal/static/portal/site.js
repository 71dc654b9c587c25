/* Published portal pages: the elder-friendly large-text mode (适老化大字版), remembered per browser. */
(function () {
  "use strict";
  var KEY = "zw-large-text";
  function apply(on) {
    document.body.classList.toggle("large-text", on);
    var button = document.querySelector("[data-large-text]");
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }
  var stored = false;
  try { stored = window.localStorage.getItem(KEY) === "1"; } catch (e) { stored = false; }
  apply(stored);
  var button = document.querySelector("[data-large-text]");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var on = !document.body.classList.contains("large-text");
      apply(on);
      try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    });
  }
  // 访问统计: one beacon per page view, the path only (no cookie, nothing about the reader).
  if (navigator.sendBeacon) {
    try { navigator.sendBeacon("/site-views/", window.location.pathname); } catch (e) { /* offline */ }
  }
})();
