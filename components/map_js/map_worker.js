/* Fleetlight fleet map worker: downloads, decodes and clusters the fleet off the page's main thread.
 *
 * Served by callbacks/map.py as /_map/js/map_worker.js, concatenated after the vendored pbf,
 * geobuf and supercluster builds (components/map_js/vendor/). The page (assets/map.js) starts it
 * as early as it can; the worker fetches the points (geobuf), the columns (site table and
 * per-point attributes) and the live status in parallel, builds the supercluster index and the
 * cluster aggregates, and answers "clusters" requests for a bounding box and zoom with everything
 * the page needs to draw styled markers (no further look-ups on the page).
 *
 * Messages in:  start {pointsUrl, columnsUrl, statusUrl, options: {radius, maxZoom, initial: {zoom, bbox}}},
 *               clusters {bbox, zoom, seq},
 *               status {payload}, diff {msg}, mask {sites}.
 * Messages out: ready {version, indexed, ms, initial: {zoom, items}}, clusters {seq, items, indexed}, changed {reason},
 *               error {message}.
 */
/* global Pbf, geobuf, Supercluster */
(function () {
  "use strict";
  // per cluster: capacity MW, output MW, points per status; the statuses come with the columns
  // (columns.json "statuses", from domain.status), so NS and F are set when they arrive
  var NS = 0, F = 2;
  var W = {
    started: null, cols: null, index: null, all: null, pointFid: null,
    pointSite: null, pointKind: null, pointCap: null, siteShare: null, siteGen: null,
    siteStatus: null, siteOut: null, siteLast: null, statusTs: null,
    agg: null, aggBuf: null, maskKey: "", options: null, version: null, pending: []
  };

  function post(msg) { self.postMessage(msg); }
  // Bytes this worker has fetched (resource timing: encoded body plus headers), for the page's figures.
  function fetchedBytes() {
    var n = 0;
    performance.getEntriesByType("resource").forEach(function (e) { n += e.transferSize || 0; });
    return n;
  }
  // Resource timings of this worker's downloads (ms since the worker started), for the bench.
  function timings() {
    return performance.getEntriesByType("resource").map(function (e) {
      return {url: e.name.replace(self.location.origin, ""), start: Math.round(e.startTime), ttfb: Math.round(e.responseStart - e.startTime),
              end: Math.round(e.responseEnd), bytes: e.transferSize};
    });
  }

  function getBuffer(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.arrayBuffer().then(function (buf) { return {buf: buf, version: r.headers.get("X-Fleet-Map-Version")}; });
    });
  }
  // The body of ``name``: handed over by the page (map_boot.js fetched it) or, failing that, fetched here.
  var handed = {};
  function body(name, url, prefetched) {
    if (!prefetched) return getBuffer(url);
    var slot = handed[name] = {};
    return new Promise(function (resolve) { slot.resolve = resolve; }).then(function (m) {
      return m.error ? getBuffer(url) : {buf: m.buf, version: m.version};
    });
  }
  function asJSON(r) { return {doc: JSON.parse(new TextDecoder().decode(r.buf)), version: r.version}; }

  // --- columns and status ------------------------------------------------------------------

  function setColumns(doc) {
    W.cols = doc;
    NS = doc.statuses.length; F = 2 + NS;
    var sites = doc.sites, assets = doc.assets, ns = sites.id.length, np = assets.site.length;
    W.siteIndex = new Map();
    for (var i = 0; i < ns; i++) W.siteIndex.set(sites.id[i], i);
    W.pointSite = Int32Array.from(assets.site);
    W.pointKind = Uint8Array.from(assets.kind);
    W.pointCap = new Float64Array(np);
    var siteKw = new Float64Array(ns);
    for (var p = 0; p < np; p++) { W.pointCap[p] = assets.cap[p] || 0; siteKw[W.pointSite[p]] += W.pointCap[p]; }
    W.siteShare = new Float64Array(np); // fraction of the site's output on this point
    for (p = 0; p < np; p++) { var kw = siteKw[W.pointSite[p]]; W.siteShare[p] = kw > 0 ? W.pointCap[p] / kw : 0; }
    W.siteGen = Uint8Array.from(sites.gen.map(function (g) { return g ? 1 : 0; }));
    W.noData = doc.statuses.indexOf("no data");
    W.siteStatus = new Int8Array(ns).fill(W.noData);
    W.siteOut = new Float64Array(ns);
    W.siteLast = new Array(ns).fill(null);
    W.severityCodes = doc.severity.map(function (s) { return doc.statuses.indexOf(s); });
  }

  // Full status dict {ts, sites: {id: [status, mw, last]}}; returns true when anything changed.
  function setStatus(payload) {
    if (!payload || !payload.sites || !W.cols) return false;
    var codes = W.cols.statuses, changed = false;
    for (var id in payload.sites) {
      var i = W.siteIndex.get(id); if (i === undefined) continue;
      var e = payload.sites[id], c = codes.indexOf(e[0]); if (c < 0) c = W.noData;
      var mw = e[1] == null ? 0 : +e[1];
      if (W.siteStatus[i] !== c || W.siteOut[i] !== mw) changed = true;
      W.siteStatus[i] = c; W.siteOut[i] = mw; W.siteLast[i] = e[2];
    }
    W.statusTs = payload.ts || W.statusTs;
    return changed;
  }

  // Live-hub diff {ts, changed: {id: {status, output_mw}}}; returns the number of sites applied.
  function applyDiff(msg) {
    if (!msg || !msg.changed || !W.cols) return 0;
    var codes = W.cols.statuses, n = 0;
    for (var id in msg.changed) {
      var i = W.siteIndex.get(id), e = msg.changed[id]; if (i === undefined || !e) continue;
      var c = codes.indexOf(e.status); if (c < 0) continue;
      W.siteStatus[i] = c; if (e.output_mw != null) W.siteOut[i] = +e.output_mw; W.siteLast[i] = msg.ts || W.siteLast[i];
      n++;
    }
    if (n) W.statusTs = msg.ts || W.statusTs;
    return n;
  }

  // --- index and aggregates ----------------------------------------------------------------

  // Index the points [lng, lat] pairs of ``lnglat``, whose feature ids are ``ids``. This is
  // Supercluster.load (v8.0.1, vendored) fed from typed arrays: load() wants one GeoJSON object
  // per point only to read its coordinates, and building 100,000 of them (and growing a plain
  // array of 600,000 numbers) was half the index time. The level trees come out identical.
  function load(lnglat, ids) {
    var t0 = performance.now(), index = new Supercluster(W.options), o = index.options, stride = index.stride;
    var n = ids.length, data = new Float64Array(n * stride);
    for (var i = 0, k = 0; i < n; i++, k += stride) {
      data[k] = Math.fround(lngX(lnglat[2 * i]));
      data[k + 1] = Math.fround(latY(lnglat[2 * i + 1]));
      data[k + 2] = Infinity; // the last zoom the point was processed at
      data[k + 3] = i; // index of the source point
      data[k + 4] = -1; // parent cluster id
      data[k + 5] = 1; // number of points
    }
    index.points = {length: n}; // clustering only reads the count; getClusters gets the real view below
    var tree = index.trees[o.maxZoom + 1] = index._createTree(data);
    for (var z = o.maxZoom; z >= o.minZoom; z--) tree = index.trees[z] = index._createTree(index._cluster(tree, z));
    index.points = pointFeatures(lnglat, ids);
    W.index = index;
    W.pointFid = ids;
    W.loadMs = performance.now() - t0;
  }
  // Supercluster's projection (the same functions as in the vendored build).
  function lngX(lng) { return lng / 360 + 0.5; }
  function latY(lat) {
    var sin = Math.sin(lat * Math.PI / 180), y = 0.5 - 0.25 * Math.log((1 + sin) / (1 - sin)) / Math.PI;
    return y < 0 ? 0 : y > 1 ? 1 : y;
  }
  // The index's ``points``: feature i is made when a view first returns it unclustered.
  function pointFeatures(lnglat, ids) {
    var made = new Map(), n = ids.length;
    return new Proxy([], {get: function (target, key) {
      if (key === "length") return n;
      var i = typeof key === "string" ? +key : NaN;
      if (!(i >= 0 && i < n && (i | 0) === i)) return target[key];
      var f = made.get(i);
      if (!f) {
        f = {type: "Feature", geometry: {type: "Point", coordinates: [lnglat[2 * i], lnglat[2 * i + 1]]}, properties: {id: ids[i]}};
        made.set(i, f);
      }
      return f;
    }});
  }

  function leafInto(buf, o, fid) {
    var s = W.pointSite[fid];
    if (W.siteGen[s]) { buf[o] += W.pointCap[fid] / 1000; buf[o + 1] += W.siteOut[s] * W.siteShare[fid]; }
    buf[o + 2 + W.siteStatus[s]] += 1;
  }

  // One bottom-up pass over supercluster's level trees: every item records the cluster it was
  // merged into (data[p + 4]), children are walked before their parents, so each cluster's sums
  // are complete when its own level is reached.
  function computeAgg() {
    var t0 = performance.now(), index = W.index, o = index.options, stride = index.stride, trees = index.trees;
    var agg = (W.agg = new Map()), buf = (W.aggBuf = new Float32Array(Math.max(1, W.pointFid.length) * F)), used = 0;
    for (var z = o.maxZoom + 1; z > o.minZoom; z--) {
      var tree = trees[z]; if (!tree) continue;
      var d = tree.data;
      for (var p = 0; p < d.length; p += stride) {
        var parent = d[p + 4]; if (parent === -1) continue;
        var po = agg.get(parent);
        if (po === undefined) { po = used; used += F; agg.set(parent, po); }
        if (d[p + 5] === 1) leafInto(buf, po, W.pointFid[d[p + 3]]);
        else { var co = agg.get(d[p + 3]); if (co !== undefined) for (var k = 0; k < F; k++) buf[po + k] += buf[co + k]; }
      }
    }
    W.aggMs = performance.now() - t0;
  }

  function worstOf(a, off) {
    var sev = W.severityCodes;
    for (var i = 0; i < sev.length; i++) if (a[off + 2 + sev[i]] > 0) return sev[i];
    return W.noData;
  }

  // --- answers -----------------------------------------------------------------------------

  function clusters(bbox, zoom) {
    var feats = W.index.getClusters(bbox, zoom), out = new Array(feats.length), c = W.cols;
    for (var i = 0; i < feats.length; i++) {
      var f = feats[i], xy = f.geometry.coordinates, p = f.properties;
      if (p.cluster) {
        var off = W.agg.get(p.cluster_id), a = new Array(F);
        for (var k = 0; k < F; k++) a[k] = off === undefined ? 0 : W.aggBuf[off + k];
        out[i] = {c: 1, id: p.cluster_id, lat: xy[1], lng: xy[0], n: p.point_count, a: a, w: worstOf(a, 0),
                  z: W.index.getClusterExpansionZoom(p.cluster_id)};
      } else {
        var fid = p.id, s = W.pointSite[fid], kind = c.asset_kinds[W.pointKind[fid]], isSite = kind === "site";
        out[i] = {c: 0, id: fid, lat: xy[1], lng: xy[0], site: c.sites.id[s], siteName: c.sites.name[s],
                  name: isSite ? c.sites.name[s] : c.assets.name[fid],
                  kind: isSite ? c.site_kinds[c.sites.kind[s]] : kind, isSite: isSite,
                  market: c.sites.market[s], region: c.sites.region[s], st: W.siteStatus[s],
                  cap: W.pointCap[fid] / 1000, out: W.siteGen[s] ? W.siteOut[s] * W.siteShare[fid] : null,
                  last: W.siteLast[s]};
      }
    }
    return out;
  }

  function applyMask(sites) {
    var key = sites == null ? "" : sites.join(",");
    if (key === W.maskKey) return false;
    W.maskKey = key;
    var all = W.all, lnglat = all.lnglat, ids = all.ids;
    if (sites != null) {
      var allow = new Uint8Array(W.cols.sites.id.length), n = 0;
      for (var i = 0; i < sites.length; i++) allow[sites[i]] = 1;
      var keepIds = new Int32Array(ids.length), keepXY = new Float64Array(lnglat.length);
      for (i = 0; i < ids.length; i++) {
        if (allow[W.pointSite[ids[i]]] !== 1) continue;
        keepIds[n] = ids[i]; keepXY[2 * n] = lnglat[2 * i]; keepXY[2 * n + 1] = lnglat[2 * i + 1]; n++;
      }
      lnglat = keepXY.subarray(0, 2 * n); ids = keepIds.subarray(0, n);
    }
    load(lnglat, ids);
    if (W.cols && W.siteStatus) computeAgg();
    return true;
  }

  // --- geobuf ------------------------------------------------------------------------------

  // Decode a geobuf FeatureCollection of bare points (what /_map/<v>/points.pbf holds: no
  // properties) straight into a Float64Array of [lng, lat] pairs: the general geobuf.decode
  // builds an object per feature, geometry and property table, which costs more than the index.
  // Returns null when the payload holds anything else (property keys, properties, other
  // geometries, more dimensions), so the caller can fall back to geobuf.decode. Field numbers
  // from geobuf.proto: Data 2 dimensions, 3 precision, 4 feature_collection; FeatureCollection
  // 1 features; Feature 1 geometry, 11/12 id; Geometry 1 type (0 = Point), 3 coords (sint64).
  function decodePointCoords(bytes) {
    var p = new Pbf(bytes), e = 1e6, dim = 2, fcStart = -1, fcEnd = -1;
    while (p.pos < p.length) {
      var field = p.readVarint() >> 3;
      if (field === 2) dim = p.readVarint();
      else if (field === 3) e = Math.pow(10, p.readVarint());
      else if (field === 4) { fcEnd = p.readVarint() + p.pos; fcStart = p.pos; p.pos = fcEnd; }
      else return null;
    }
    if (fcStart < 0 || dim !== 2) return null;
    var out = new Float64Array((bytes.length >> 2) + 2), n = 0; // a point feature takes at least 8 bytes
    p.pos = fcStart;
    while (p.pos < fcEnd) {
      if (p.readVarint() !== 10) return null; // field 1, length-delimited: a feature (13/15: property tables)
      var fEnd = p.readVarint() + p.pos, got = false;
      while (p.pos < fEnd) {
        var tag = p.readVarint(), f = tag >> 3;
        if (f === 11 || f === 12) { p.skip(tag); continue; }
        if (f !== 1) return null;
        var gEnd = p.readVarint() + p.pos;
        while (p.pos < gEnd) {
          var g = p.readVarint() >> 3;
          if (g === 1) { if (p.readVarint() !== 0) return null; }
          else if (g === 3) {
            var cEnd = p.readVarint() + p.pos;
            out[2 * n] = p.readSVarint() / e; out[2 * n + 1] = p.readSVarint() / e;
            if (p.pos !== cEnd) return null;
            got = true;
          } else return null;
        }
      }
      if (!got) return null;
      n++;
    }
    return out.subarray(0, 2 * n);
  }

  // The general path: any geobuf FeatureCollection of points; ids from the ``id`` property when set.
  function decodeFeatures(bytes) {
    var feats = geobuf.decode(new Pbf(bytes)).features, n = feats.length;
    var lnglat = new Float64Array(2 * n), ids = new Int32Array(n);
    for (var i = 0; i < n; i++) {
      var c = feats[i].geometry.coordinates, pr = feats[i].properties;
      lnglat[2 * i] = c[0]; lnglat[2 * i + 1] = c[1];
      ids[i] = pr && pr.id !== undefined ? pr.id : i;
    }
    return {lnglat: lnglat, ids: ids};
  }

  // --- start-up ----------------------------------------------------------------------------

  // Points are decoded and indexed as soon as they arrive; the columns and the status (needed for
  // the aggregates) download meanwhile, so a slow status read does not hold up the index.
  function start(m) {
    if (W.started && W.pointsUrl === m.pointsUrl) return; // same data already loading or loaded
    W.pointsUrl = m.pointsUrl; W.options = m.options; W.maskKey = ""; W.ready = false;
    var t0 = performance.now(), urls = m.pointsUrl, ms = {};
    var indexed = body("points", m.pointsUrl, m.prefetched).then(function (r) {
      if (urls !== W.pointsUrl) return null;
      var t1 = performance.now(); ms.fetch = t1 - t0;
      var bytes = new Uint8Array(r.buf), lnglat = decodePointCoords(bytes), all;
      if (lnglat) {
        var ids = new Int32Array(lnglat.length / 2);
        for (var i = 0; i < ids.length; i++) ids[i] = i; // feature i is point i
        all = {lnglat: lnglat, ids: ids};
      } else all = decodeFeatures(bytes);
      W.all = all;
      ms.decode = performance.now() - t1;
      load(all.lnglat, all.ids);
      ms.index = W.loadMs;
      return r.version;
    });
    var cols = body("columns", m.columnsUrl, m.prefetched).then(asJSON);
    var status = body("status", m.statusUrl, m.prefetched).then(asJSON);
    W.started = Promise.all([indexed, cols, status]).then(function (r) {
      if (urls !== W.pointsUrl) return;
      var t2 = performance.now();
      setColumns(r[1].doc);
      if (W.pendingStatus) { setStatus(W.pendingStatus); W.pendingStatus = null; }
      setStatus(r[2].doc);
      W.version = r[1].doc.version;
      ms.columns = performance.now() - t2;
      var masked = false;
      if (W.pendingMask !== undefined) { var pm = W.pendingMask; W.pendingMask = undefined; masked = applyMask(pm); }
      if (!masked) computeAgg();
      ms.aggregate = W.aggMs; ms.total = performance.now() - t0;
      // The page's opening view comes with "ready", so the first markers need no further round trip.
      var first = W.options.initial, initial = first ? {zoom: first.zoom, items: clusters(first.bbox, first.zoom)} : null;
      post({type: "ready", version: W.version, pointsVersion: r[0], indexed: W.pointFid.length, statusTs: W.statusTs,
            statuses: W.cols.statuses, bytes: fetchedBytes(), timings: timings(), origin: performance.timeOrigin, ms: ms,
            initial: initial});
      W.ready = true;
      var q = W.pending; W.pending = [];
      q.forEach(handle);
    }).catch(function (err) {
      W.started = null; W.ready = false;
      post({type: "error", message: String(err && err.message || err)});
    });
  }

  function handle(m) {
    if (m.type === "start") { start(m); return; }
    if (m.type === "data") { var slot = handed[m.name]; if (slot && slot.resolve) { slot.resolve(m); slot.resolve = null; } return; }
    if (!W.ready) { // not ready yet: keep the latest of each kind of request
      if (m.type === "status") { W.pendingStatus = m.payload; return; }
      if (m.type === "mask") { W.pendingMask = m.sites; return; }
      if (m.type === "diff") { W.pending.push(m); return; }
      W.pending = W.pending.filter(function (x) { return x.type !== m.type; });
      W.pending.push(m);
      return;
    }
    if (m.type === "clusters") {
      var t0 = performance.now(), items = clusters(m.bbox, m.zoom);
      post({type: "clusters", seq: m.seq, items: items, indexed: W.pointFid.length, statusTs: W.statusTs, ms: performance.now() - t0});
    } else if (m.type === "status") {
      if (setStatus(m.payload)) { computeAgg(); post({type: "changed", reason: "status", statusTs: W.statusTs}); }
    } else if (m.type === "diff") {
      if (applyDiff(m.msg)) { computeAgg(); post({type: "changed", reason: "diff", statusTs: W.statusTs}); }
    } else if (m.type === "mask") {
      if (applyMask(m.sites)) post({type: "changed", reason: "mask", indexed: W.pointFid.length});
    }
  }

  self.onmessage = function (e) {
    try { handle(e.data); } catch (err) { post({type: "error", message: String(err && err.message || err)}); }
  };
})();
