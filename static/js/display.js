// The in-store display: numbers collected a while ago leave by themselves, and an
// optional chime sounds when a number becomes ready (a tap turns it on: browsers
// allow sound only after a gesture; the choice is remembered on this screen).
// The socket, reconnects and resyncs are tracker.js's, as on every live page.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("display-sound");
    var sound = window.localStorage && localStorage.getItem("tracker.display.sound") === "on";
    var audio = null;
    var ready = readyNow();

    function readyNow() {
      var found = {};
      document.querySelectorAll("[data-ready='1']").forEach(function (el) { found[el.id] = true; });
      return found;
    }

    function chime() {
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        [0, 0.25].forEach(function (at, n) {
          var tone = audio.createOscillator();
          var gain = audio.createGain();
          tone.frequency.value = n ? 660 : 880;
          gain.gain.setValueAtTime(0.2, audio.currentTime + at);
          gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.4);
          tone.connect(gain).connect(audio.destination);
          tone.start(audio.currentTime + at);
          tone.stop(audio.currentTime + at + 0.45);
        });
      } catch (e) { /* no audio here */ }
    }

    function clearCollected() {
      var now = Date.now();
      document.querySelectorAll("[data-until]").forEach(function (el) {
        if (Number(el.dataset.until) <= now) el.remove();
      });
    }

    if (button) {
      button.setAttribute("aria-pressed", String(sound));
      button.addEventListener("click", function () {
        sound = !sound;
        button.setAttribute("aria-pressed", String(sound));
        if (window.localStorage) localStorage.setItem("tracker.display.sound", sound ? "on" : "off");
        if (sound) chime();
      });
    }

    document.body.addEventListener("htmx:afterSwap", after);
    document.body.addEventListener("htmx:wsAfterMessage", after);
    function after() {
      clearCollected();
      var now = readyNow();
      var fresh = Object.keys(now).some(function (id) { return !ready[id]; });
      ready = now;
      if (fresh && sound) chime();
    }
    setInterval(clearCollected, 1000);
  });
})();
