/* Fleetlight fleet map, first thing on /map: start the downloads and the map's Web Worker while
 * the browser is still busy with Dash's own scripts.
 *
 * callbacks/map.py puts <link rel="preload"> tags for the three data URLs and then this script
 * (synchronous, small) at the top of the <head> of /map only, prefixed with
 * window.fleetMapBootConfig ({urls, options}) and window.fleetMapWorkerSource (the worker: the
 * vendored pbf, geobuf and supercluster builds plus components/map_js/map_worker.js). The page
 * fetches the data here — the preloads got the first of the browser's six connections, before
 * Dash's fifteen scripts — and hands each body to the worker as it arrives (transferred, not
 * copied); the worker decodes and indexes the points meanwhile. It also fetches the opening view
 * the server has clustered (/_map/opening.json), so the first markers can be drawn as soon as
 * the map exists, before the worker is ready; while that view is on its way and until it is drawn
 * (at most HOLD_MAX_MS), the worker waits with the indexing. assets/map.js adopts the worker, the
 * messages it has sent so far and the opening view (window.fleetMapBoot).
 */
(function () {
  "use strict";
  var cfg = window.fleetMapBootConfig, src = window.fleetMapWorkerSource, HOLD_MAX_MS = 2000;
  if (window.fleetMapBoot || !cfg || !src || typeof Worker === "undefined" || !window.fetch) return;
  var url = URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
  var boot = (window.fleetMapBoot = {worker: new Worker(url), inbox: [], at: performance.now()});
  boot.worker.onmessage = function (e) { boot.inbox.push(e); };
  var abs = {};
  for (var k in cfg.urls) abs[k] = new URL(cfg.urls[k], window.location.href).href;
  // With the server's opening view on its way, the worker starts decoding and indexing only once
  // that view is drawn (assets/map.js calls boot.go), so it does not take the CPU from the page's
  // own start on a small machine; without one (204: not built yet) it starts at once.
  var started = false, held = [];
  function post(msg, transfer) {
    if (started) boot.worker.postMessage(msg, transfer || []);
    else held.push([msg, transfer || []]);
  }
  boot.go = function () {
    if (started) return;
    started = true;
    boot.worker.postMessage({type: "start", pointsUrl: abs.pointsUrl, columnsUrl: abs.columnsUrl, statusUrl: abs.statusUrl,
                             options: cfg.options, prefetched: true});
    held.splice(0).forEach(function (m) { boot.worker.postMessage(m[0], m[1]); });
  };
  if (cfg.openingUrl) {
    boot.opening = fetch(cfg.openingUrl, {credentials: "same-origin"}).then(function (r) {
      return r.status === 200 ? r.json() : null; // 204: the server's index is not built yet
    }).catch(function () { return null; });
    boot.opening.then(function (v) { if (!v) boot.go(); });
    setTimeout(boot.go, HOLD_MAX_MS);
  } else boot.go();
  [["points", abs.pointsUrl], ["columns", abs.columnsUrl], ["status", abs.statusUrl]].forEach(function (job) {
    fetch(job[1], {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(job[1] + ": HTTP " + r.status);
      return r.arrayBuffer().then(function (buf) {
        post({type: "data", name: job[0], buf: buf, version: r.headers.get("X-Fleet-Map-Version")}, [buf]);
      });
    }).catch(function (err) {  // the worker then fetches it itself
      post({type: "data", name: job[0], error: String(err && err.message || err)});
    });
  });
})();
