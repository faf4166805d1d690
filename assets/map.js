/* Fleetlight fleet map: the clustered asset layer, live status and filtering (window.fleetMap).
 *
 * The heavy work runs in a Web Worker (/_map/js/map_worker.js: vendored supercluster, geobuf,
 * pbf): it downloads the points (geobuf), the columns (site table, per-point attributes) and the
 * live status in parallel, builds the supercluster index and each cluster's aggregates (summed MW,
 * assets per status, worst status), and answers "which clusters and points are in this view"
 * with everything needed to draw them styled. On the fleet map page the worker is started as soon
 * as this file runs, so the download and indexing overlap with Dash starting up; the page's main
 * thread only draws the few hundred visible markers on the dash-leaflet map (dl.Map "map-map").
 *
 * Status changes (live diffs, the fallback poll) and the filter mask go to the worker, which
 * recomputes the aggregates (or re-indexes the allowed points) and the visible markers are
 * restyled in place; the geometry is never re-sent.
 */
(function () {
  "use strict";
  var FM = (window.fleetMap = window.fleetMap || {});
  var MAP_ID = "map-map", PAGE_PATH = "/map", WORKER_URL = "/_map/js/map_worker.js";
  // Same as components/map_view.py CLUSTER_RADIUS / CLUSTER_MAX_ZOOM (the page config repeats them).
  // The opening view (components/map_view.py DEFAULT_ZOOM): the worker answers it with "ready".
  var DEFAULT_CLUSTER = {radius: 120, maxZoom: 14, initial: {zoom: 3, bbox: [-180, -85, 180, 85]}};
  var LATEST = {pointsUrl: "/_map/latest/points.pbf", columnsUrl: "/_map/latest/columns.json", statusUrl: "/_map/status.json"};
  // The statuses (and their order in the cluster aggregates) come from the server with the worker's
  // columns (domain.status): none are declared here.
  var STATUSES = [];
  var SHAPES = {inverter: "square", turbine: "triangle", battery: "diamond", transformer: "hexagon",
                solar: "square", wind: "triangle", storage: "diamond", substation: "hexagon", hybrid: "circle"};
  var S = (FM.state = {
    worker: null, workerState: "idle", started: null, loadedVersion: null, wantVersion: null, cluster: DEFAULT_CLUSTER,
    map: null, layer: null, markers: new Map(), gen: 0, seq: 0, answeredSeq: 0, renderSeq: 0, waiters: [], indexed: 0,
    statusTs: null, colors: {}, statuses: STATUSES, marks: {}, workerMs: null, error: null
  });
  function mark(name) { if (S.marks[name] === undefined) S.marks[name] = Math.round(performance.now()); }

  // --- formatting -----------------------------------------------------------------------------

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function fmtMW(mw) {
    var a = Math.abs(mw);
    if (a < 0.005) return "0 MW";
    if (a >= 1000) return (mw / 1000).toFixed(a >= 10000 ? 0 : 1) + " GW";
    if (a >= 100) return mw.toFixed(0) + " MW";
    if (a >= 10) return mw.toFixed(1) + " MW";
    return mw.toFixed(2) + " MW";
  }
  // cluster labels: two or three significant digits, at most six characters ("0.5 MW", "845 MW", "12 GW")
  function fmtMWShort(mw) {
    var a = Math.abs(mw);
    if (a < 0.05) return "0 MW";
    if (a >= 9999.5) return (mw / 1000).toFixed(0) + " GW";
    if (a >= 999.5) return (mw / 1000).toFixed(1) + " GW";
    if (a >= 9.95) return mw.toFixed(0) + " MW";
    return mw.toFixed(1) + " MW";
  }
  function fmtCount(n) { return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n); }
  function color(statusName) { return S.colors[statusName] || "#999"; }

  // --- worker ---------------------------------------------------------------------------------

  function startWorker(urls, version) {
    if (typeof Worker === "undefined") { S.error = "this browser has no Web Workers"; return; }
    if (!S.worker) own(new Worker(WORKER_URL));
    S.workerState = "loading"; S.started = urls; S.wantVersion = version || S.wantVersion;
    mark("workerStart");
    // absolute URLs: a worker started from a Blob (map_boot.js) cannot resolve relative ones
    function abs(u) { return new URL(u, window.location.href).href; }
    S.worker.postMessage({type: "start", pointsUrl: abs(urls.pointsUrl), columnsUrl: abs(urls.columnsUrl),
                          statusUrl: abs(urls.statusUrl),
                          options: {radius: S.cluster.radius, maxZoom: S.cluster.maxZoom, initial: S.cluster.initial}});
  }
  function own(worker) {
    S.worker = worker;
    worker.onmessage = onWorkerMessage;
    worker.onerror = function (e) { S.workerState = "error"; S.error = e.message; console.error("fleet map worker:", e.message); };
  }
  function send(msg) { if (S.worker) S.worker.postMessage(msg); }

  function onWorkerMessage(e) {
    var m = e.data;
    if (m.type === "ready") {
      mark("workerReady");
      S.workerState = "ready"; S.loadedVersion = m.version; S.indexed = m.indexed; S.workerMs = m.ms; S.workerBytes = m.bytes;
      S.workerTimings = {origin: m.origin - performance.timeOrigin, fetches: m.timings};
      S.statusTs = m.statusTs; S.gen++;
      if (m.statuses) S.statuses = m.statuses;
      S.initial = m.initial || null;
      if (S.wantVersion && S.wantVersion !== m.version && S.config) {
        S.initial = null; startWorker(versioned(S.config), S.config.version); return;
      }
      if (drawInitial()) { showStatusTime(); return; }
      if (S.answeredSeq === S.seq) requestClusters(); // else the worker is answering the view asked for already
      showStatusTime();
    } else if (m.type === "clusters") {
      S.answeredSeq = Math.max(S.answeredSeq, m.seq);
      if (m.seq !== S.seq) return; // a newer view was asked for meanwhile
      S.indexed = m.indexed; S.statusTs = m.statusTs; S.openingShown = false;
      render(m.items);
    } else if (m.type === "changed") {
      if (m.reason === "mask") { S.gen++; S.indexed = m.indexed; }
      if (m.statusTs) S.statusTs = m.statusTs;
      requestClusters();
      if (m.reason === "diff") showStatusTime();
    } else if (m.type === "error") {
      S.workerState = "error"; S.error = m.message; signalDrawn(); // live status still flows
      console.error("fleet map: " + m.message);
    }
  }

  // The status line under the map names the time of the status shown (the fallback poll's callback
  // writes it too); the first status comes with the worker's data, not through a Dash callback.
  function showStatusTime() {
    var dc = window.dash_clientside;
    if (!S.statusTs || !dc || !dc.set_props || !document.getElementById("map-status-line")) return;
    dc.set_props("map-status-line", {children: "status " + String(S.statusTs).replace("T", " ").slice(0, 19) + " UTC"});
  }

  function versioned(config) {
    return {pointsUrl: config.points_url, columnsUrl: config.columns_url, statusUrl: config.status_url || LATEST.statusUrl};
  }

  // The worker sends the markers of the page's opening view (whole world at the default zoom) with
  // "ready": draw them as soon as both they and the map are there, then ask for the exact view.
  // They replace the server's opening markers (drawOpening) if those were drawn first.
  function drawInitial() {
    var map = S.map, first = S.initial;
    if (!first || !map || !map._loaded || !S.layer || (S.renderSeq && !S.openingShown) || map.getZoom() !== first.zoom) return false;
    S.initial = null; S.openingShown = false;
    S.answeredSeq = S.seq;
    render(first.items);
    requestClusters();
    return true;
  }

  // The server clusters the opening view too (/_map/opening.json, fetched by map_boot.js): the same
  // supercluster levels as the worker's, so its markers can be drawn as soon as the map exists,
  // while the worker is still indexing; the worker's first answer replaces them.
  function drawOpening() {
    var map = S.map, v = S.opening;
    if (!v || !map || !map._loaded || !S.layer || S.renderSeq || S.workerState === "ready" ||
        map.getZoom() !== v.zoom || (S.wantVersion && S.wantVersion !== v.version)) return false;
    S.opening = null; S.openingShown = true;
    if (v.statusTs) S.statusTs = v.statusTs;
    render(v.items);
    mark("openingDrawn");
    showStatusTime();
    // the worker (held by map_boot.js while this view was on its way) may index now: after this frame
    var boot = window.fleetMapBoot;
    if (boot && boot.go) requestAnimationFrame(function () { setTimeout(boot.go, 0); });
    return true;
  }

  // Ask the worker for the markers of the current view. Asked before the worker is ready, it answers
  // as soon as it is, without waiting for this (busy) page to hear "ready" and ask again.
  function requestClusters() {
    var map = S.map;
    if (!map || !map._loaded || !S.worker || S.workerState === "error") return;
    var b = map.getBounds();
    S.seq++;
    send({type: "clusters", seq: S.seq, zoom: map.getZoom(), bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]});
  }

  // --- icons ----------------------------------------------------------------------------------

  var iconCache = new Map();
  function cachedIcon(key, build) {
    var hit = iconCache.get(key); if (hit) return hit;
    if (iconCache.size > 4000) iconCache.clear();
    hit = build(); iconCache.set(key, hit); return hit;
  }

  function clusterIcon(it) {
    var a = it.a, count = it.n, w = S.statuses[it.w] || "no data";
    var key = "c" + count + "|" + a.slice(1).join(",") + "|" + w;
    return cachedIcon(key, function () {
      // the core holds the label ("845 MW", "1.2 GW", "12k"): at least 58 px, so the longest label fits
      var size = Math.round(Math.min(66, 58 + 2 * Math.log10(Math.max(count, 1))));
      var r = size / 2 - 4, c = 2 * Math.PI * r, total = 0, segs = "", acc = 0, h = size / 2;
      for (var i = 0; i < S.statuses.length; i++) total += a[2 + i];
      for (i = 0; i < S.statuses.length; i++) {
        var n = a[2 + i]; if (!n) continue;
        var len = c * n / total;
        segs += '<circle r="' + r + '" cx="' + h + '" cy="' + h + '" fill="none" stroke="' + color(S.statuses[i]) +
          '" stroke-width="6" stroke-dasharray="' + len.toFixed(2) + " " + (c - len).toFixed(2) +
          '" stroke-dashoffset="' + (-acc).toFixed(2) + '"/>';
        acc += len;
      }
      var html = '<svg width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + " " + size + '">' +
        '<g transform="rotate(-90 ' + h + " " + h + ')">' + segs + "</g>" +
        '<circle r="' + (r - 3.5) + '" cx="' + h + '" cy="' + h + '" class="fl-cluster-core" stroke="' + color(w) +
        '" stroke-width="1.5"/></svg>' +
        '<div class="fl-cluster-label"><b>' + fmtMWShort(a[1]).replace(" ", "&nbsp;") + "</b><small>" + fmtCount(count) + "</small></div>";
      return L.divIcon({html: html, className: "fl-cluster fl-worst-" + w.replace(" ", "-"), iconSize: L.point(size, size)});
    });
  }

  function pointIcon(it) {
    var status = S.statuses[it.st] || "no data", kindName = it.kind;
    var size = Math.round(Math.max(12, Math.min(30, 12 + 4 * Math.log10(1 + it.cap * 2))));
    return cachedIcon("p" + kindName + "|" + status + "|" + size, function () {
      var h = size, m = h / 2, shape = SHAPES[kindName] || "circle", body;
      if (shape === "square") body = '<rect x="2" y="2" width="' + (h - 4) + '" height="' + (h - 4) + '" rx="2"/>';
      else if (shape === "triangle") body = '<polygon points="' + m + ",1 " + (h - 1) + "," + (h - 2) + " 1," + (h - 2) + '"/>';
      else if (shape === "diamond") body = '<polygon points="' + m + ",1 " + (h - 1) + "," + m + " " + m + "," + (h - 1) + " 1," + m + '"/>';
      else if (shape === "hexagon") {
        var pts = [];
        for (var i = 0; i < 6; i++) { var ang = Math.PI / 3 * i; pts.push((m + (m - 1.5) * Math.cos(ang)).toFixed(1) + "," + (m + (m - 1.5) * Math.sin(ang)).toFixed(1)); }
        body = '<polygon points="' + pts.join(" ") + '"/>';
      } else body = '<circle cx="' + m + '" cy="' + m + '" r="' + (m - 1.5) + '"/>';
      return L.divIcon({
        html: '<svg width="' + h + '" height="' + h + '"><g fill="' + color(status) + '" stroke="#fff" stroke-width="1.5">' + body + "</g></svg>",
        className: "fl-point fl-kind-" + kindName + " fl-status-" + status.replace(" ", "-"), iconSize: L.point(h, h)
      });
    });
  }

  // --- tooltips and click-through -------------------------------------------------------------

  function pointTooltip(it) {
    var status = S.statuses[it.st] || "no data";
    var last = it.last ? it.last.replace("T", " ").replace(/\.\d+/, "").replace(/(Z|\+00:00)$/, " UTC") : "never";
    return '<div class="fl-tip"><div class="fl-tip-title">' + esc(it.name) + "</div>" +
      (it.isSite ? "" : '<div class="fl-tip-sub">' + esc(it.siteName) + "</div>") +
      "<div>" + esc(it.isSite ? it.kind + " site" : it.kind) + " · " + esc(it.market) + (it.region ? " · " + esc(it.region) : "") + "</div>" +
      "<div>" + (it.out == null ? "—" : fmtMW(it.out)) + " of " + fmtMW(it.cap) + "</div>" +
      '<div><span class="fl-dot" style="background:' + color(status) + '"></span>' + esc(status) + "</div>" +
      '<div class="fl-tip-sub">last update ' + esc(last) + "</div></div>";
  }

  function clusterTooltip(it) {
    var a = it.a, rows = "";
    for (var i = 0; i < S.statuses.length; i++) if (a[2 + i]) rows += '<div><span class="fl-dot" style="background:' + color(S.statuses[i]) + '"></span>' + esc(S.statuses[i]) + ": " + a[2 + i].toLocaleString() + "</div>";
    return '<div class="fl-tip"><div class="fl-tip-title">' + it.n.toLocaleString() + " assets</div><div>" +
      fmtMW(a[1]) + " of " + fmtMW(a[0]) + "</div>" + rows + '<div class="fl-tip-sub">click to zoom in</div></div>';
  }

  FM.openSite = function (siteId) {
    var href = "/sites/" + encodeURIComponent(siteId);
    if (FM.deferredLoaded) navigate(href);
    else loadDeferred().then(function () { navigate(href); });
  };

  function onMarkerClick(entry) {
    var it = entry.item;
    if (!it.c) { FM.openSite(it.site); return; }
    var map = S.map, z = it.z > S.cluster.maxZoom ? S.cluster.maxZoom + 1 : it.z; // past maxZoom every asset is its own marker
    map.flyTo([it.lat, it.lng], Math.min(z, map.getMaxZoom()));
  }

  // --- drawing --------------------------------------------------------------------------------

  function signature(it) {
    return it.c ? it.n + "|" + it.a.join(",") + "|" + it.w : it.st + "|" + (it.out == null ? "" : it.out.toFixed(3)) + "|" + it.last;
  }

  // Draw the worker's answer: keep unchanged markers, restyle changed ones, add new, drop the rest.
  function render(items) {
    if (!S.map || !S.layer) return;
    var next = new Map(), add = [];
    for (var i = 0; i < items.length; i++) {
      var it = items[i], key = it.c ? "c" + S.gen + ":" + it.id : "p" + it.id, sig = signature(it);
      var entry = S.markers.get(key);
      if (entry) {
        S.markers.delete(key);
        if (entry.sig !== sig) { entry.marker.setIcon(it.c ? clusterIcon(it) : pointIcon(it)); entry.sig = sig; }
        entry.item = it;
      } else {
        entry = {item: it, sig: sig};
        entry.marker = makeMarker(entry);
        add.push(entry.marker);
      }
      next.set(key, entry);
    }
    S.markers.forEach(function (old) { S.layer.removeLayer(old.marker); });
    for (i = 0; i < add.length; i++) S.layer.addLayer(add[i]);
    S.markers = next;
    S.renderSeq++;
    if (items.length) mark("firstRender");
    if (!S.drawn) signalDrawn();
    var waiters = S.waiters; S.waiters = [];
    for (i = 0; i < waiters.length; i++) waiters[i]();
  }

  // The first markers are drawn: load the scripts the page left out of its start, then subscribe to
  // live status (the Socket.IO component of the page config goes into its slot; pages/map.py
  // explains why it is not in the layout from the start).
  function signalDrawn() { S.drawn = true; loadDeferred().then(subscribe); }
  function subscribe() {
    var dc = window.dash_clientside, spec = S.config && S.config.socket;
    if (!S.drawn || S.subscribed || !spec || !dc || !dc.set_props || !FM.deferredLoaded ||
        !document.getElementById("map-socket-slot")) return;
    S.subscribed = true;
    dc.set_props("map-socket-slot", {children: spec});
  }

  function makeMarker(entry) {
    var it = entry.item;
    var marker = L.marker([it.lat, it.lng], {icon: it.c ? clusterIcon(it) : pointIcon(it), riseOnHover: true, keyboard: false});
    marker.bindTooltip(function () { return entry.item.c ? clusterTooltip(entry.item) : pointTooltip(entry.item); },
                       {direction: "top", offset: [0, entry.item.c ? -14 : -8]});
    marker.on("click", function () { onMarkerClick(entry); });
    return marker;
  }

  // --- scripts loaded after the first drawing ---------------------------------------------------

  // On /map, callbacks/map.py takes the component libraries the map does not draw with (AG Grid,
  // Socket.IO) and the live-page helpers out of the page's start and lists them in a <meta>.
  // They are loaded, in order, once the first markers are drawn (or after DEFERRED_MAX_WAIT_MS);
  // a link followed before they have arrived waits for them (then the click is replayed, so the
  // link does what it always does), so the next page finds its components.
  var DEFERRED_META = 'meta[name="fleetlight-deferred-scripts"]', DEFERRED_MAX_WAIT_MS = 3000, deferred = null;
  function deferredUrls() {
    var meta = document.querySelector(DEFERRED_META);
    if (!meta) return [];
    try { return JSON.parse(meta.getAttribute("content")) || []; } catch (e) { return []; }
  }
  function loadDeferred() {
    if (deferred) return deferred;
    deferred = Promise.all(deferredUrls().map(function (src) {
      return new Promise(function (resolve) {
        var el = document.createElement("script");
        el.src = src; el.async = false; // run in the order listed, like the page's own scripts
        el.onload = el.onerror = function () { resolve(); };
        document.head.appendChild(el);
      });
    })).then(function () { FM.deferredLoaded = true; });
    return deferred;
  }
  function navigate(href) {
    window.history.pushState({}, "", href);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  }
  FM.deferredLoaded = !document.querySelector(DEFERRED_META);
  if (!FM.deferredLoaded) {
    setTimeout(loadDeferred, DEFERRED_MAX_WAIT_MS);
    document.addEventListener("click", function (e) {
      if (FM.deferredLoaded || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
      if (!a || typeof a.href !== "string" || a.target === "_blank") return;
      var url = new URL(a.href, window.location.href);
      if (url.origin !== window.location.origin || url.pathname === window.location.pathname) return;
      e.preventDefault(); e.stopPropagation(); // before Dash's link handler sees it
      loadDeferred().then(function () { a.click(); });
    }, true);
  }

  // --- the dash-leaflet map -------------------------------------------------------------------

  function attach(map) {
    S.map = map; S.markers = new Map(); S.drawn = false; S.subscribed = false;
    S.layer = L.layerGroup();
    mark("mapInit");
    map.whenReady(function () {
      if (S.map !== map) return;
      S.layer.addTo(map);
      map.on("moveend", requestClusters);
      if (!drawInitial() && !drawOpening()) requestClusters();
    });
    map.on("unload", function () { if (S.map === map) { S.map = null; S.layer = null; S.markers = new Map(); } });
  }

  function hookLeaflet() {
    if (FM.hooked || !window.L || !L.Map) return !!FM.hooked;
    FM.hooked = true;
    L.Map.addInitHook(function () {
      var el = this.getContainer && this.getContainer();
      if (el && el.id === MAP_ID) attach(this);
    });
    return true;
  }

  // On the map page the worker was started from <head> (map_boot.js): adopt it and what it said so
  // far. Without that script, start it now, still before Dash has asked for its layout.
  hookLeaflet();
  var boot = window.fleetMapBoot;
  if (boot && boot.worker && !S.worker) {
    own(boot.worker); S.workerState = "loading"; S.started = LATEST;
    S.marks.workerStart = Math.round(boot.at);
    if (window.fleetMapBootConfig) {
      S.cluster = window.fleetMapBootConfig.options;
      S.colors = window.fleetMapBootConfig.colors || S.colors;
    }
    boot.inbox.splice(0).forEach(onWorkerMessage);
    if (boot.opening) boot.opening.then(function (v) { S.opening = v; drawOpening(); });
  } else if (window.location.pathname === PAGE_PATH) startWorker(LATEST, null);

  // --- page API -------------------------------------------------------------------------------

  FM.init = function (config) {
    if (!config || !config.points_url) return "";
    hookLeaflet();
    S.config = config;
    S.colors = config.colors || S.colors;
    if (config.cluster) S.cluster = config.cluster;
    S.wantVersion = config.version;
    subscribe();
    if (!S.worker || S.workerState === "error" || S.workerState === "idle") startWorker(versioned(config), config.version);
    else if (S.workerState === "ready" && S.loadedVersion !== config.version) startWorker(versioned(config), config.version);
    else requestClusters();
    return config.version;
  };

  // Full status dict {ts, sites: {id: [status, mw, last]}} (the fallback poll).
  FM.setStatus = function (payload) {
    if (!payload || !payload.sites) return false;
    send({type: "status", payload: payload});
    return true;
  };

  // Live-hub diff {ts, changed: {id: {status, output_mw}}} (event map.status, room map); returns entries sent.
  FM.applyDiff = function (msg) {
    if (!msg || !msg.changed) return 0;
    var n = 0;
    for (var id in msg.changed) { var e = msg.changed[id]; if (e && S.statuses.indexOf(e.status) >= 0) n++; }
    if (n) send({type: "diff", msg: msg});
    return n;
  };

  // Show only points of the allowed sites (array of site rows) or all (null); re-clusters in the worker.
  FM.setMask = function (sites) {
    send({type: "mask", sites: sites == null ? null : sites});
    return true;
  };

  // Resolve after the next drawing of the markers (bench: re-cluster time includes the worker's answer).
  FM.nextRender = function () { return new Promise(function (resolve) { S.waiters.push(resolve); }); };

  FM.stats = function () {
    return {clusters: document.querySelectorAll(".fl-cluster").length,
            points: document.querySelectorAll(".fl-point").length,
            indexed: S.indexed, marks: S.marks, worker: S.workerMs, workerBytes: S.workerBytes || 0, workerTimings: S.workerTimings, statusTs: S.statusTs, version: S.renderSeq,
            state: S.workerState, error: S.error};
  };

  // --- Dash clientside callbacks --------------------------------------------------------------

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.fleetMap = {
    init: function (config) { return FM.init(config); },
    status: function (payload) {
      FM.setStatus(payload);
      return payload && payload.ts ? "status " + payload.ts.replace("T", " ").slice(0, 19) + " UTC" : "";
    },
    live: function (msg) {
      var n = FM.applyDiff(msg);
      return msg && msg.ts ? "live · " + n + " site(s) changed " + String(msg.ts).replace("T", " ").slice(11, 19) + " UTC" : window.dash_clientside.no_update;
    },
    mask: function (mask) { FM.setMask(mask == null ? null : mask); return mask == null ? "" : String(mask.length); }
  };
})();
