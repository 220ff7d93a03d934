// The staff board: tiles tick by themselves (time in stage, late colours, the undo
// window), lanes keep their order and counts as tiles come and go, search and the
// workflow filter work on the tablet, and keys work for counters with a keyboard.
// Tiles arrive as htmx out-of-band swaps (tracker.js); nothing here renders them.
(function () {
  "use strict";

  var MESSAGE_MS = 8000;

  function start(root) {
    var search = document.getElementById("board-search");
    var soundButton = document.getElementById("board-sound");
    var panel = document.getElementById("panel");
    var filter = "";
    var known = null; // the tiles already seen, to tell a new order from a moved one
    var focusedTile = null;
    var sound = window.localStorage && localStorage.getItem("tracker.board.sound") === "on";
    var audio = null;

    function tiles() {
      return Array.prototype.slice.call(root.querySelectorAll(".tile"));
    }

    function pad(n) {
      return n < 10 ? "0" + n : String(n);
    }

    function elapsed(ms) {
      var s = Math.max(0, Math.floor(ms / 1000));
      var m = Math.floor(s / 60);
      var h = Math.floor(m / 60);
      var d = Math.floor(h / 24);
      if (d) return d + " " + root.dataset.textDays + " " + (h % 24) + " " + root.dataset.textHours;
      if (h) return h + " " + root.dataset.textHours + " " + pad(m % 60);
      return m + ":" + pad(s % 60);
    }

    function tick() {
      var now = Date.now();
      tiles().forEach(function (t) {
        var clock = t.querySelector(".tile-elapsed");
        if (clock) clock.textContent = elapsed(now - Number(t.dataset.since));
        var red = t.dataset.red && now >= Number(t.dataset.red);
        var amber = t.dataset.amber && now >= Number(t.dataset.amber);
        t.classList.toggle("tile-red", Boolean(red));
        t.classList.toggle("tile-amber", Boolean(amber) && !red);
        if (t.dataset.undoUntil && now > Number(t.dataset.undoUntil)) {
          var undo = t.querySelector(".tile-undo");
          if (undo) undo.remove();
        }
        var said = t.querySelector(".tile-msg");
        if (said && now - Number(said.dataset.at || now) > MESSAGE_MS) said.remove();
        if (t.dataset.leaves && now > Number(t.dataset.leaves)) t.remove();
      });
    }

    function matches(t) {
      var q = search ? search.value.trim().toLowerCase() : "";
      return (!q || t.dataset.find.indexOf(q) >= 0) && (!filter || t.dataset.workflow === filter);
    }

    function beep() {
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.15;
        tone.connect(gain);
        gain.connect(audio.destination);
        tone.start();
        tone.stop(audio.currentTime + 0.2);
      } catch (e) { /* no audio on this device */ }
    }

    // After any change of the tiles: order each lane (longest waiting first),
    // show what the search and the filter let through, count, and greet new orders.
    function tidy() {
      var now = Date.now();
      var seen = {};
      var fresh = false;
      root.querySelectorAll(".lane").forEach(function (lane) {
        var list = lane.querySelector(".tiles");
        var items = Array.prototype.slice.call(list.children);
        items.sort(function (a, b) {
          // As the server orders them: by the time in stage, then by age (the id's number).
          return Number(a.dataset.since) - Number(b.dataset.since) ||
            Number(a.id.slice(6)) - Number(b.id.slice(6));
        });
        items.forEach(function (t, i) {
          if (list.children[i] !== t) list.insertBefore(t, list.children[i]);
        });
        var shown = 0;
        items.forEach(function (t) {
          t.hidden = !matches(t);
          if (!t.hidden) shown += 1;
          seen[t.id] = true;
          if (known && !known[t.id] && t.dataset.version === "1") {
            t.classList.add("tile-new");
            fresh = true;
          }
          var said = t.querySelector(".tile-msg");
          if (said && !said.dataset.at) said.dataset.at = String(now);
        });
        // Empty lanes step aside, unless one workflow is shown: then its lanes stay put.
        var workflows = (lane.dataset.workflows || "").split(" ");
        var one = Boolean(filter) || root.dataset.workflows === "1";
        var searching = search && search.value.trim() !== "";
        lane.hidden = (Boolean(filter) && workflows.indexOf(filter) < 0) ||
          (!shown && (!one || searching || lane.id === "lane-done"));
        var count = lane.querySelector(".lane-count");
        if (count) count.textContent = String(shown);
      });
      known = seen;
      if (fresh && sound) beep();
      var focus = focusedTile && document.getElementById(focusedTile);
      if (focus && (document.activeElement === document.body || !document.activeElement)) {
        focus.focus({ preventScroll: true });
      }
      tick();
    }

    var pending = false;
    function soon() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        tidy();
      });
    }
    new MutationObserver(soon).observe(root, { childList: true, subtree: true });

    // The tablet checks now and then that it has missed no change (a push can be
    // lost while the socket stays open, and without Redis another process's change
    // reaches no socket): the server's count and version sum of the board's tiles
    // against its own.
    function digest() {
      var versions = 0;
      var all = tiles();
      all.forEach(function (t) { versions += Number(t.dataset.version); });
      return all.length + ":" + versions;
    }
    setInterval(function () {
      if (document.hidden || !root.dataset.resyncUrl) return;
      fetch(root.dataset.resyncUrl + "?digest=1", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (theirs) {
          if (theirs && theirs !== digest()) root.dispatchEvent(new CustomEvent("tracker:resync"));
        })
        .catch(function () { /* the live status says what is wrong */ });
    }, Math.max(1, Number(root.dataset.checkSeconds || 60)) * 1000);

    if (search) {
      search.addEventListener("input", tidy);
      search.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { search.value = ""; tidy(); }
        if (e.key === "Enter") {
          var first = tiles().filter(function (t) { return !t.hidden; })[0];
          if (first) first.focus();
        }
      });
    }
    document.querySelectorAll("[data-filter]").forEach(function (button) {
      button.addEventListener("click", function () {
        filter = button.dataset.filter;
        document.querySelectorAll("[data-filter]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
        tidy();
      });
    });
    if (soundButton) {
      soundButton.setAttribute("aria-pressed", String(sound));
      soundButton.addEventListener("click", function () {
        sound = !sound;
        soundButton.setAttribute("aria-pressed", String(sound));
        if (window.localStorage) localStorage.setItem("tracker.board.sound", sound ? "on" : "off");
        if (sound) beep(); // a tap is the gesture browsers want before playing sound
      });
    }

    // Keys: arrows move between tiles (up/down in a lane, left/right across lanes),
    // Enter advances the focused tile, U undoes its last step.
    root.addEventListener("focusin", function (e) {
      var t = e.target.closest && e.target.closest(".tile");
      focusedTile = t ? t.id : focusedTile;
    });
    root.addEventListener("keydown", function (e) {
      var t = e.target;
      if (!t.classList || !t.classList.contains("tile")) return;
      var visible = function (list) {
        return Array.prototype.slice.call(list.children).filter(function (x) { return !x.hidden; });
      };
      var lanes = Array.prototype.slice.call(root.querySelectorAll(".lane")).filter(function (l) {
        return !l.hidden && visible(l.querySelector(".tiles")).length;
      });
      var lane = t.closest(".lane");
      var here = visible(lane.querySelector(".tiles"));
      var index = here.indexOf(t);
      var target = null;
      if (e.key === "ArrowDown") target = here[index + 1];
      else if (e.key === "ArrowUp") target = here[index - 1];
      else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        var next = lanes[lanes.indexOf(lane) + (e.key === "ArrowRight" ? 1 : -1)];
        if (next) {
          var there = visible(next.querySelector(".tiles"));
          target = there[Math.min(index, there.length - 1)];
        }
      } else if (e.key === "Enter" || e.key === "u" || e.key === "U") {
        var button = t.querySelector(e.key === "Enter" ? ".btn-advance" : ".btn-undo");
        if (button) {
          e.preventDefault();
          // A tile that has just landed is wired up by htmx when its swap settles;
          // a quick key must not beat that and post the form without htmx.
          htmx.process(t);
          button.click();
        }
        return;
      } else {
        return;
      }
      e.preventDefault();
      if (target) target.focus();
    });

    // An order's panel opens in the dialog; the board behind it keeps moving.
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (panel && e.detail.target && e.detail.target.id === "panel-body" && !panel.open) {
        panel.showModal();
      }
    });

    setInterval(tick, 1000);
    tidy();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-board]");
    if (root) start(root);
  });
})();
