// Tracker embed helper for a shop's own page (docs/EMBED.md): resizes each tracker
// iframe to its content. It trusts only messages from the tracker's origin (where
// this script was loaded from) and only from the iframe that sent them.
(function () {
  "use strict";
  var script = document.currentScript;
  var trackerOrigin = new URL(script.src, window.location.href).origin;

  window.addEventListener("message", function (event) {
    if (event.origin !== trackerOrigin) return;
    var data = event.data;
    if (!data || data.type !== "tracker:height" || typeof data.height !== "number") return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        var height = Math.max(80, Math.min(Math.ceil(data.height), 20000));
        frames[i].style.height = height + "px";
      }
    }
  });
})();
