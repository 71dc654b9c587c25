/* Flowcharts: render a BPMN diagram with the vendored bpmn-js viewer and mark an instance's progress.
 *
 * Markup: <div class="bpmn-canvas" data-bpmn-url="…" data-progress='{"done":[…],"current":[…],"holders":{…}}'>
 * Completed steps get the CSS marker "zw-done", current ones "zw-current"; the holders of current steps
 * are shown as overlays under their shapes. The bpmn.io watermark the viewer draws is left untouched.
 */
(function () {
  "use strict";

  function mark(viewer, progress) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    (progress.done || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "zw-done"); }
    });
    (progress.current || []).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "zw-current"); }
    });
    var holders = progress.holders || {};
    Object.keys(holders).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var box = document.createElement("div");
      box.className = "zw-holder";
      box.textContent = holders[id].join("；");
      overlays.add(id, "zw-holders", { position: { top: 82, left: -10 }, html: box });
    });
  }

  function render(el) {
    if (typeof window.BpmnJS !== "function") {
      el.setAttribute("data-rendered", "error");
      return;
    }
    var viewer = new window.BpmnJS({ container: el });
    fetch(el.getAttribute("data-bpmn-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var raw = el.getAttribute("data-progress");
        if (raw) { mark(viewer, JSON.parse(raw)); }
        viewer.get("canvas").zoom("fit-viewport");
        el.setAttribute("data-rendered", "true");
      })
      .catch(function () {
        el.setAttribute("data-rendered", "error");
        var p = document.createElement("p");
        p.className = "muted";
        p.textContent = el.getAttribute("data-error-text") || "";
        el.appendChild(p);
      });
  }

  document.querySelectorAll(".bpmn-canvas[data-bpmn-url]").forEach(render);
})();
