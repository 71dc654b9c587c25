// The sender's status page: refresh the recipients' states every few seconds (CSP: no inline script).
(function () {
  "use strict";
  var box = document.getElementById("status-live");
  if (!box) return;
  var url = box.getAttribute("data-url");
  function checked() {
    var out = {};
    box.querySelectorAll("input[name=units]:checked").forEach(function (el) { out[el.value] = true; });
    return out;
  }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var keep = checked();
        box.innerHTML = html;
        box.querySelectorAll("input[name=units]").forEach(function (el) { if (keep[el.value]) el.checked = true; });
      })
      .catch(function () {});
  }
  setInterval(refresh, 3000);
})();
