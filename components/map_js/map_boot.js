/* Fleetlight fleet map, first thing on /map: start the downloads and the map's Web Worker while
 * the browser is still busy with Dash's own scripts.
 *
 * callbacks/map.py puts <link rel="preload"> tags for the three data URLs and then this script
 * (synchronous, small) at the top of the <head> of /map only, prefixed with
 * window.fleetMapBootConfig ({urls, options}) and window.fleetMapWorkerSource (the worker: the
 * vendored pbf, geobuf and supercluster builds plus components/map_js/map_worker.js). The page
 * fetches the data here — the preloads got the first of the browser's six connections, before
 * Dash's fifteen scripts — and hands each body to the worker as it arrives (transferred, not
 * copied); the worker decodes and indexes the points meanwhile. assets/map.js adopts the worker and
 * the messages it has sent so far (window.fleetMapBoot).
 */
(function () {
  "use strict";
  var cfg = window.fleetMapBootConfig, src = window.fleetMapWorkerSource;
  if (window.fleetMapBoot || !cfg || !src || typeof Worker === "undefined" || !window.fetch) return;
  var url = URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
  var boot = (window.fleetMapBoot = {worker: new Worker(url), inbox: [], at: performance.now()});
  boot.worker.onmessage = function (e) { boot.inbox.push(e); };
  var abs = {};
  for (var k in cfg.urls) abs[k] = new URL(cfg.urls[k], window.location.href).href;
  boot.worker.postMessage({type: "start", pointsUrl: abs.pointsUrl, columnsUrl: abs.columnsUrl, statusUrl: abs.statusUrl,
                           options: cfg.options, prefetched: true});
  [["points", abs.pointsUrl], ["columns", abs.columnsUrl], ["status", abs.statusUrl]].forEach(function (job) {
    fetch(job[1], {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(job[1] + ": HTTP " + r.status);
      return r.arrayBuffer().then(function (buf) {
        boot.worker.postMessage({type: "data", name: job[0], buf: buf, version: r.headers.get("X-Fleet-Map-Version")}, [buf]);
      });
    }).catch(function (err) {  // the worker then fetches it itself
      boot.worker.postMessage({type: "data", name: job[0], error: String(err && err.message || err)});
    });
  });
})();
