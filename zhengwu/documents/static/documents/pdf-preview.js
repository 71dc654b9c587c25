// PDF preview of a document file with the vendored PDF.js (no inline script: CSP). Each page is drawn on
// its own canvas, scaled to the width of the screen (phones included).
(async function () {
  "use strict";
  var box = document.getElementById("pdf-viewer");
  if (!box) return;
  var status = document.getElementById("pdf-status");
  try {
    var pdfjsLib = await import(box.dataset.lib);
    pdfjsLib.GlobalWorkerOptions.workerSrc = box.dataset.worker;
    var pdf = await pdfjsLib.getDocument({
      url: box.dataset.src,
      cMapUrl: box.dataset.cmaps,
      cMapPacked: true,
      isEvalSupported: false,
      withCredentials: true,
    }).promise;
    var width = Math.min(box.clientWidth || 800, 1000);
    for (var n = 1; n <= pdf.numPages; n++) {
      var page = await pdf.getPage(n);
      var base = page.getViewport({ scale: 1 });
      var viewport = page.getViewport({ scale: width / base.width });
      var canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "pdf-page";
      canvas.style.maxWidth = "100%";
      box.appendChild(canvas);
      await page.render({ canvasContext: canvas.getContext("2d"), viewport: viewport }).promise;
    }
    box.setAttribute("data-pages", String(pdf.numPages));
    if (status) status.textContent = status.dataset.done.replace("%s", String(pdf.numPages));
  } catch (err) {
    if (status) status.textContent = status.dataset.failed;
    box.setAttribute("data-error", String(err && err.message ? err.message : err));
  }
})();
