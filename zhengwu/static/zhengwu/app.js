/* Zhengwu page behaviour. Loaded from a file, never inline: the Content-Security-Policy allows only
 * scripts from this site. Everything here is an enhancement; every page works without it. */
(function () {
  "use strict";
  var KEY = "zw-large-text";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function store(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
  }

  // 适老化: larger text, applied before the first paint so the page does not jump.
  if (stored()) { root.classList.add("large-text"); }

  function syncButtons() {
    var on = root.classList.contains("large-text");
    document.querySelectorAll("[data-large-text]").forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncButtons();
    document.querySelectorAll("[data-large-text]").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = !root.classList.contains("large-text");
        root.classList.toggle("large-text", on);
        store(on);
        syncButtons();
      });
    });
    // <select data-autosubmit> submits its form on change (filters, page size).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { if (select.form) { select.form.requestSubmit(); } });
    });
    // The navigation says where you are (screen readers announce aria-current).
    var best = null;
    document.querySelectorAll(".topnav a[href]").forEach(function (a) {
      var path = a.pathname;
      var here = window.location.pathname;
      if ((here === path || (path !== "/" && here.indexOf(path) === 0)) && (!best || path.length > best.pathname.length)) {
        best = a;
      }
    });
    if (best) { best.setAttribute("aria-current", "page"); }
    // The skip link moves keyboard focus, not only the scroll position.
    document.querySelectorAll("a.skip").forEach(function (link) {
      link.addEventListener("click", function () {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (target) { target.focus(); }
      });
    });
  });
})();
