// Live pages: keep the last known state, drop stale pushes, reconnect on ANY
// close, resync after a gap, and poll when the socket cannot connect.
// htmx and its ws extension come from django-htmx; this file only adds policy.
(function () {
  "use strict";

  // hx-ws reconnects by itself only on these codes; we handle every other close.
  var HTMX_RECONNECTS = [1006, 1011, 1012, 1013];

  function parse(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function order(el) {
    if (!el) return -1;
    var v = el.getAttribute("data-version") || el.getAttribute("data-stamp");
    return v === null ? -1 : Number(v);
  }

  // A pushed or fetched fragment replaces ours only if it is newer. One without an
  // id adds to the page (the rest of a board sent in parts) and always goes in.
  function isNewer(incoming) {
    if (!incoming) return false;
    if (!incoming.id) return true;
    return order(incoming) > order(document.getElementById(incoming.id));
  }

  // A swap the person did not ask for (a push, a resync). What they opened or are
  // typing is marked hx-preserve in the fragment, and htmx keeps it.
  function swapIn(html) {
    var el = parse(html);
    if (el.hasAttribute("hx-swap-oob")) {
      // Out-of-band parts (a board's tile): each finds its own place.
      htmx.swap(document.body, html, { swapStyle: "none" });
      return el.id ? document.getElementById(el.id) : null;
    }
    htmx.swap(document.getElementById(el.id), html, { swapStyle: "outerHTML" });
    return document.getElementById(el.id);
  }

  function start(root) {
    var pollMs = Math.max(1, Number(root.dataset.pollSeconds || 5)) * 1000;
    var status = document.getElementById("live-status");
    var announce = document.getElementById("announce");
    var open = false;
    var polling = false; // the socket is down but polls are getting through
    var lastUpdate = Date.now();
    var retries = 0;
    var wrapper = null;
    var rtf = window.Intl && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" })
      : null;

    function finished() {
      var p = document.getElementById("progress");
      return p !== null && p.dataset.finished === "true";
    }

    function ago() {
      var s = Math.round((Date.now() - lastUpdate) / 1000);
      if (!rtf) return "";
      return s < 60 ? rtf.format(-s, "second") : rtf.format(-Math.round(s / 60), "minute");
    }

    function show(state) {
      if (!status) return;
      status.dataset.state = state;
      var text = root.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
      status.textContent = state === "live" ? text : text + " " + root.dataset.textUpdated + " " + ago() + ".";
    }

    // What to say while the socket is not open.
    function down() {
      return !navigator.onLine ? "offline" : polling ? "polling" : "reconnecting";
    }

    function updated(el) {
      lastUpdate = Date.now();
      if (announce && el && el.dataset.announce) announce.textContent = el.dataset.announce;
      show(open ? "live" : down());
    }

    // `fresh`: the same version is taken too (an estimate that has passed is
    // recalculated by the server without a change of the order).
    function resync(fresh) {
      var url = root.dataset.resyncUrl;
      if (!url) return;
      fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" }, cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var el = parse(html);
          polling = !open;
          var current = el && el.id ? document.getElementById(el.id) : null;
          if (isNewer(el) || (fresh === true && current && order(el) >= order(current))) {
            if (document.querySelector(".htmx-request")) {
              // A tap of ours is in flight: swapping now would detach the element
              // awaiting its answer, which would then never show. Held like a push.
              if (!held || order(el) > order(parse(held))) held = html;
              return;
            }
            updated(swapIn(html));
          } else {
            lastUpdate = Date.now();
            show(open ? "live" : "polling");
          }
        })
        .catch(function () {
          polling = false;
          show(down());
        });
    }

    function reconnect() {
      if (open || !wrapper) return;
      // Full jitter, capped: a restart of the server does not bring every page back at once.
      var delay = Math.random() * Math.min(30000, 1000 * Math.pow(2, Math.min(retries, 5)));
      retries += 1;
      setTimeout(function () { if (!open) wrapper.reconnect(); }, delay);
    }

    root.addEventListener("htmx:wsOpen", function (e) {
      open = true;
      polling = false;
      retries = 0;
      wrapper = e.detail.socketWrapper;
      show("live");
    });
    root.addEventListener("htmx:wsClose", function (e) {
      open = false;
      wrapper = e.detail.socketWrapper;
      show(down());
      var code = e.detail.event.code;
      if (HTMX_RECONNECTS.indexOf(code) < 0 && !finished()) reconnect();
    });
    // A push that lands while one of our own requests is in flight would detach
    // the element that made it, and htmx could no longer swap the answer. Hold
    // the newest such push and apply it afterwards if it is still newer.
    var held = null;
    root.addEventListener("htmx:wsBeforeMessage", function (e) {
      var el = parse(e.detail.message);
      if (!isNewer(el)) {
        e.preventDefault();
      } else if (document.querySelector(".htmx-request")) {
        if (!held || order(el) > order(parse(held))) held = e.detail.message;
        e.preventDefault();
      }
    });
    document.body.addEventListener("htmx:afterRequest", function () {
      if (!held || document.querySelector(".htmx-request")) return;
      var html = held;
      held = null;
      if (isNewer(parse(html))) swapIn(html);
    });
    root.addEventListener("htmx:wsAfterMessage", function (e) {
      var el = parse(e.detail.message);
      updated(el && document.getElementById(el.id));
    });
    document.body.addEventListener("htmx:afterSwap", function () { lastUpdate = Date.now(); });

    // A shop's notice leaves at its end time by this page's own clock.
    setInterval(function () {
      document.querySelectorAll(".announcement[data-until]").forEach(function (el) {
        if (!el.hidden && Number(el.dataset.until) <= Date.now()) el.hidden = true;
      });
    }, 1000);

    // Polling fallback: whenever the socket is not open, fetch the same partial.
    setInterval(function () {
      if (!open && !document.hidden) resync();
    }, pollMs);
    setInterval(function () { if (!open) show(down()); }, 15000);
    // An estimate never silently slides into the past: once it has passed, ask for
    // the honest one (the stage overran, so it is now later), at most once a minute.
    var askedEta = 0;
    setInterval(function () {
      var p = document.getElementById("progress");
      var eta = p && Number(p.dataset.eta || 0) * 1000;
      if (eta && Date.now() > eta && Date.now() - askedEta > 60000 && !document.hidden) {
        askedEta = Date.now();
        resync(true);
      }
    }, 5000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) resync(); });
    root.addEventListener("tracker:resync", resync); // the board found it missed a change
    window.addEventListener("online", function () { resync(); if (!open) reconnect(); });
    window.addEventListener("offline", function () { show("offline"); });
  }

  // Inside a shop's page (the embed): tell the parent our height, so the iframe
  // fits without a scrollbar. Only to the origins the shop listed (the same list
  // as the page's CSP frame-ancestors); the browser drops it for any other parent.
  function reportHeight() {
    var origins = (document.body.getAttribute("data-embed-origins") || "").split(" ").filter(Boolean);
    if (window.parent === window || !origins.length) return;
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    origins.forEach(function (origin) {
      window.parent.postMessage({ type: "tracker:height", height: height }, origin);
    });
  }

  // A tap that got no answer, or an answer htmx does not swap, must still say so.
  function say(text) {
    var flash = document.getElementById("flash");
    if (flash && text) flash.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("htmx:sendError", function () {
      say(document.body.getAttribute("data-text-unreachable"));
    });
    document.body.addEventListener("htmx:responseError", function () {
      say(document.body.getAttribute("data-text-failed"));
    });
    if (document.body.hasAttribute("data-embed-origins") && window.ResizeObserver) {
      new ResizeObserver(reportHeight).observe(document.body);
    }
    var root = document.querySelector("[data-live]");
    if (root) start(root);
  });
})();
