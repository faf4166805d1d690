/* Fleetlight fleet map: cluster and marker styling, live status, filtering (window.fleetMap).
 *
 * dash-leaflet's GeoJSON layer clusters the points with supercluster; this file supplies its
 * clusterToLayer / pointToLayer functions and keeps everything that changes at run time on the JS
 * side: the per-site status dict (status, output MW, last update), cluster aggregates (summed MW,
 * assets per status) and the site mask of the filter panel. A status change restyles the visible
 * markers in place; the geometry is never re-sent.
 *
 * Cluster aggregates are computed once per index build by walking supercluster's level trees
 * bottom-up (each item records the cluster it was merged into), so every cluster's sums are O(1)
 * to read; a getLeaves() fallback covers a supercluster without that layout.
 */
(function () {
  "use strict";
  var FM = (window.fleetMap = window.fleetMap || {});
  var S = (FM.state = {
    cols: null, siteIndex: null, pointSite: null, pointCap: null, pointKind: null, siteShare: null,
    siteStatus: null, siteOut: null, siteLast: null, statusTs: null, statusLoaded: false,
    index: null, points: null, allPoints: null, pointFid: null, agg: null, aggBuf: null,
    map: null, group: null, maskKey: "", mask: null, colors: {}, loading: null, columnsUrl: null,
    version: 0, marks: {}
  });
  // dash-leaflet loads its GeoJSON and geobuf code as lazy chunks, one after the other, only once
  // the points are requested; registering both chunks up front on the map page saves two round trips.
  function preloadChunks() {
    if (FM.chunksRequested || window.location.pathname !== "/map") return;
    FM.chunksRequested = true;
    ["async-GeoJSON.js", "async-geobuf.js"].forEach(function (name) {
      var el = document.createElement("script");
      el.src = "/_dash-component-suites/dash_leaflet/" + name; el.async = true;
      document.head.appendChild(el);
    });
  }
  preloadChunks();
  function mark(name) { if (S.marks[name] === undefined) S.marks[name] = Math.round(performance.now()); }
  var NS = 7; // statuses, in the order of the columns document
  var F = 2 + NS; // per cluster: capacity MW, output MW, points per status
  var SHAPES = {inverter: "square", turbine: "triangle", battery: "diamond", transformer: "hexagon",
                solar: "square", wind: "triangle", storage: "diamond", substation: "hexagon", hybrid: "circle"};

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
  function fmtCount(n) { return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n); }
  function ready() { return !!(S.cols && S.statusLoaded); }

  // --- data loading ---------------------------------------------------------------------------

  FM.init = function (config) {
    if (!config || !config.columns_url) return "";
    preloadChunks();
    S.colors = config.colors || S.colors;
    if (S.columnsUrl === config.columns_url && (S.cols || S.loading)) return config.version;
    S.columnsUrl = config.columns_url;
    S.loading = fetch(config.columns_url, {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error("columns " + r.status); return r.json(); })
      .then(function (doc) { mark("columns"); setColumns(doc); S.loading = null; FM.refresh(); })
      .catch(function (err) { S.loading = null; console.error("fleet map: cannot load columns", err); });
    return config.version;
  };

  function setColumns(doc) {
    S.cols = doc;
    var sites = doc.sites, assets = doc.assets, ns = sites.id.length, np = assets.site.length;
    S.siteIndex = new Map();
    for (var i = 0; i < ns; i++) S.siteIndex.set(sites.id[i], i);
    S.pointSite = Int32Array.from(assets.site);
    S.pointKind = Uint8Array.from(assets.kind);
    S.pointCap = new Float64Array(np);
    var siteKw = new Float64Array(ns);
    for (var p = 0; p < np; p++) { S.pointCap[p] = assets.cap[p] || 0; siteKw[S.pointSite[p]] += S.pointCap[p]; }
    S.siteShare = new Float64Array(np); // fraction of the site's output on this point
    for (p = 0; p < np; p++) { var kw = siteKw[S.pointSite[p]]; S.siteShare[p] = kw > 0 ? S.pointCap[p] / kw : 0; }
    S.siteGen = Uint8Array.from(sites.gen.map(function (g) { return g ? 1 : 0; }));
    var keep = S.siteStatus && S.siteStatus.length === ns;
    if (!keep) {
      S.siteStatus = new Int8Array(ns).fill(doc.statuses.indexOf("no data"));
      S.siteOut = new Float64Array(ns);
      S.siteLast = new Array(ns).fill(null);
    }
    if (S.pendingStatus) { FM.setStatus(S.pendingStatus); S.pendingStatus = null; }
    S.agg = null;
  }

  // Full status dict {ts, sites: {id: [status, mw, last]}} (fallback refresh and first load).
  FM.setStatus = function (payload) {
    if (!payload || !payload.sites) return false;
    if (!S.cols) { S.pendingStatus = payload; return false; }
    var codes = S.cols.statuses, changed = false;
    for (var id in payload.sites) {
      var i = S.siteIndex.get(id); if (i === undefined) continue;
      var e = payload.sites[id], c = codes.indexOf(e[0]); if (c < 0) c = codes.indexOf("no data");
      var mw = e[1] == null ? 0 : +e[1];
      if (S.siteStatus[i] !== c || S.siteOut[i] !== mw) changed = true;
      S.siteStatus[i] = c; S.siteOut[i] = mw; S.siteLast[i] = e[2];
    }
    mark("status"); S.statusTs = payload.ts; var first = !S.statusLoaded; S.statusLoaded = true;
    if (changed || first) { S.agg = null; FM.refresh(); }
    return changed;
  };

  // Live-hub diff {ts, changed: {id: {status, output_mw}}} (event map.status, room map).
  FM.applyDiff = function (msg) {
    if (!msg || !msg.changed || !S.cols) return 0;
    var codes = S.cols.statuses, n = 0;
    for (var id in msg.changed) {
      var i = S.siteIndex.get(id), e = msg.changed[id]; if (i === undefined || !e) continue;
      var c = codes.indexOf(e.status); if (c < 0) continue;
      S.siteStatus[i] = c; if (e.output_mw != null) S.siteOut[i] = +e.output_mw; S.siteLast[i] = msg.ts || S.siteLast[i];
      n++;
    }
    if (n) { S.statusTs = msg.ts || S.statusTs; S.statusLoaded = true; S.agg = null; FM.refresh(); }
    return n;
  };

  // --- aggregates -----------------------------------------------------------------------------

  function leafInto(buf, o, fid) {
    var s = S.pointSite[fid];
    if (S.siteGen[s]) { buf[o] += S.pointCap[fid] / 1000; buf[o + 1] += S.siteOut[s] * S.siteShare[fid]; }
    buf[o + 2 + S.siteStatus[s]] += 1;
  }

  function bindIndex(index) {
    if (S.index !== index) {
      S.index = index; S.allPoints = index.points; S.points = null; S.maskKey = "";
      if (S.mask) { var m = S.mask; S.mask = null; FM.setMask(m, true); }
    }
    if (S.points !== index.points) {
      S.points = index.points; S.agg = null;
      S.pointFid = new Int32Array(S.points.length);
      for (var i = 0; i < S.points.length; i++) S.pointFid[i] = S.points[i].properties.id;
    }
  }

  function computeAgg(index) {
    mark("aggregate"); var t0 = performance.now(), o = index.options, stride = index.stride, trees = index.trees;
    var top = trees && trees[o.maxZoom + 1];
    S.agg = new Map(); S.aggLazy = !(top && top.data && stride >= 6);
    if (S.aggLazy) return;
    var buf = (S.aggBuf = new Float32Array(Math.max(1, S.points.length) * F)), used = 0, agg = S.agg;
    for (var z = o.maxZoom + 1; z > o.minZoom; z--) {
      var tree = trees[z]; if (!tree) continue;
      var d = tree.data;
      for (var p = 0; p < d.length; p += stride) {
        var parent = d[p + 4]; if (parent === -1) continue;
        var po = agg.get(parent);
        if (po === undefined) { po = used; used += F; agg.set(parent, po); }
        if (d[p + 5] === 1) leafInto(buf, po, S.pointFid[d[p + 3]]);
        else { var co = agg.get(d[p + 3]); if (co !== undefined) for (var k = 0; k < F; k++) buf[po + k] += buf[co + k]; }
      }
    }
    S.aggMs = performance.now() - t0;
  }

  function clusterAgg(index, id) {
    if (!ready()) return null;
    bindIndex(index);
    if (!S.agg) computeAgg(index);
    if (!S.aggLazy) { var off = S.agg.get(id); return off === undefined ? null : S.aggBuf.subarray(off, off + F); }
    var hit = S.agg.get(id); if (hit) return hit;
    var v = new Float32Array(F), leaves = index.getLeaves(id, Infinity);
    for (var i = 0; i < leaves.length; i++) leafInto(v, 0, leaves[i].properties.id);
    S.agg.set(id, v); return v;
  }

  function worst(counts) {
    var sev = S.cols.severity, st = S.cols.statuses;
    for (var i = 0; i < sev.length; i++) if (counts[2 + st.indexOf(sev[i])] > 0) return sev[i];
    return "no data";
  }

  // --- icons ----------------------------------------------------------------------------------

  function clusterIcon(a, count) {
    var size = Math.round(Math.min(58, 40 + 4 * Math.log10(Math.max(count, 1))));
    if (!a) {
      return L.divIcon({html: '<div class="fl-cluster-pending"><span>' + fmtCount(count) + "</span></div>",
                        className: "fl-cluster fl-pending", iconSize: L.point(size, size)});
    }
    var r = size / 2 - 4, c = 2 * Math.PI * r, total = 0, st = S.cols.statuses, segs = "", acc = 0;
    for (var i = 0; i < NS; i++) total += a[2 + i];
    for (i = 0; i < NS; i++) {
      var n = a[2 + i]; if (!n) continue;
      var len = c * n / total;
      segs += '<circle r="' + r + '" cx="' + size / 2 + '" cy="' + size / 2 + '" fill="none" stroke="' +
        (S.colors[st[i]] || "#999") + '" stroke-width="6" stroke-dasharray="' + len.toFixed(2) + " " +
        (c - len).toFixed(2) + '" stroke-dashoffset="' + (-acc).toFixed(2) + '"/>';
      acc += len;
    }
    var w = worst(a), mw = a[1];
    var html = '<svg width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + " " + size + '">' +
      '<g transform="rotate(-90 ' + size / 2 + " " + size / 2 + ')">' + segs + "</g>" +
      '<circle r="' + (r - 3.5) + '" cx="' + size / 2 + '" cy="' + size / 2 + '" class="fl-cluster-core" stroke="' +
      (S.colors[w] || "#999") + '" stroke-width="1.5"/></svg>' +
      '<div class="fl-cluster-label"><b>' + fmtMW(mw).replace(" ", "&nbsp;") + "</b><small>" + fmtCount(count) + "</small></div>";
    return L.divIcon({html: html, className: "fl-cluster fl-worst-" + w.replace(" ", "-"), iconSize: L.point(size, size)});
  }

  var iconCache = new Map();
  function pointIcon(fid) {
    var s = S.pointSite[fid], kindName = S.cols.asset_kinds[S.pointKind[fid]];
    if (kindName === "site") kindName = S.cols.site_kinds[S.cols.sites.kind[s]];
    var status = S.cols.statuses[S.siteStatus[s]];
    var capMW = S.pointCap[fid] / 1000;
    var size = Math.round(Math.max(12, Math.min(30, 12 + 4 * Math.log10(1 + capMW * 2))));
    var key = kindName + "|" + status + "|" + size;
    var hit = iconCache.get(key); if (hit) return hit;
    var h = size, m = h / 2, fill = S.colors[status] || "#999", shape = SHAPES[kindName] || "circle", body;
    if (shape === "square") body = '<rect x="2" y="2" width="' + (h - 4) + '" height="' + (h - 4) + '" rx="2"/>';
    else if (shape === "triangle") body = '<polygon points="' + m + ",1 " + (h - 1) + "," + (h - 2) + " 1," + (h - 2) + '"/>';
    else if (shape === "diamond") body = '<polygon points="' + m + ",1 " + (h - 1) + "," + m + " " + m + "," + (h - 1) + " 1," + m + '"/>';
    else if (shape === "hexagon") {
      var pts = []; for (var i = 0; i < 6; i++) { var ang = Math.PI / 3 * i; pts.push((m + (m - 1.5) * Math.cos(ang)).toFixed(1) + "," + (m + (m - 1.5) * Math.sin(ang)).toFixed(1)); }
      body = '<polygon points="' + pts.join(" ") + '"/>';
    } else body = '<circle cx="' + m + '" cy="' + m + '" r="' + (m - 1.5) + '"/>';
    var icon = L.divIcon({
      html: '<svg width="' + h + '" height="' + h + '"><g fill="' + fill + '" stroke="#fff" stroke-width="1.5">' + body + "</g></svg>",
      className: "fl-point fl-kind-" + kindName + " fl-status-" + status.replace(" ", "-"), iconSize: L.point(h, h)
    });
    iconCache.set(key, icon);
    return icon;
  }

  // --- tooltips and click-through -------------------------------------------------------------

  function pointTooltip(fid) {
    var c = S.cols, s = S.pointSite[fid], sites = c.sites, k = c.asset_kinds[S.pointKind[fid]];
    var status = c.statuses[S.siteStatus[s]], isSite = k === "site";
    var cap = S.pointCap[fid] / 1000, out = S.siteGen[s] ? S.siteOut[s] * S.siteShare[fid] : null;
    var last = S.siteLast[s] ? S.siteLast[s].replace("T", " ").replace(/\.\d+/, "").replace(/(Z|\+00:00)$/, " UTC") : "never";
    return '<div class="fl-tip"><div class="fl-tip-title">' + esc(isSite ? sites.name[s] : c.assets.name[fid]) + "</div>" +
      (isSite ? "" : '<div class="fl-tip-sub">' + esc(sites.name[s]) + "</div>") +
      "<div>" + esc(isSite ? c.site_kinds[sites.kind[s]] + " site" : k) + " · " + esc(sites.market[s]) + (sites.region[s] ? " · " + esc(sites.region[s]) : "") + "</div>" +
      "<div>" + (out == null ? "—" : fmtMW(out)) + " of " + fmtMW(cap) + "</div>" +
      '<div><span class="fl-dot" style="background:' + (S.colors[status] || "#999") + '"></span>' + esc(status) + "</div>" +
      '<div class="fl-tip-sub">last update ' + esc(last) + "</div></div>";
  }

  function clusterTooltip(index, id, count) {
    var a = clusterAgg(index, id); if (!a) return fmtCount(count) + " assets";
    var st = S.cols.statuses, rows = "";
    for (var i = 0; i < NS; i++) if (a[2 + i]) rows += '<div><span class="fl-dot" style="background:' + (S.colors[st[i]] || "#999") + '"></span>' + esc(st[i]) + ": " + a[2 + i].toLocaleString() + "</div>";
    return '<div class="fl-tip"><div class="fl-tip-title">' + count.toLocaleString() + " assets</div><div>" +
      fmtMW(a[1]) + " of " + fmtMW(a[0]) + "</div>" + rows + '<div class="fl-tip-sub">click to zoom in</div></div>';
  }

  FM.openSite = function (siteId) {
    var href = "/sites/" + encodeURIComponent(siteId);
    window.history.pushState({}, "", href);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  };

  function remember(marker, context) {
    if (context && context.map) S.map = context.map;
    marker.once("add", function () { for (var k in this._eventParents) { S.group = this._eventParents[k]; break; } });
  }

  // --- dash-leaflet hooks ---------------------------------------------------------------------

  FM.clusterToLayer = function (feature, latlng, index, context) {
    mark("clusterToLayer");
    S.seenIndex = index;
    var p = feature.properties, a = clusterAgg(index, p.cluster_id);
    var marker = L.marker(latlng, {icon: clusterIcon(a, p.point_count), riseOnHover: true});
    marker.bindTooltip(function () { return clusterTooltip(index, p.cluster_id, p.point_count); }, {direction: "top", offset: [0, -14]});
    remember(marker, context);
    return marker;
  };

  FM.pointToLayer = function (feature, latlng, context) {
    var fid = feature.properties.id;
    if (!ready()) {
      var pending = L.marker(latlng, {icon: L.divIcon({className: "fl-point fl-pending", iconSize: L.point(10, 10)})});
      remember(pending, context); return pending;
    }
    var marker = L.marker(latlng, {icon: pointIcon(fid), riseOnHover: true, keyboard: false});
    marker.bindTooltip(function () { return pointTooltip(fid); }, {direction: "top", offset: [0, -8]});
    marker.on("click", function () { FM.openSite(S.cols.sites.id[S.pointSite[fid]]); });
    remember(marker, context);
    return marker;
  };

  // Restyle what is on the map now (after columns, status or filter changes).
  FM.refresh = function () {
    S.version++;
    if (!S.group || !ready()) return;
    if (S.seenIndex) bindIndex(S.seenIndex);
    var index = S.index;
    S.group.eachLayer(function (layer) {
      var f = layer.feature; if (!f) return;
      if (f.properties.cluster) {
        if (index) layer.setIcon(clusterIcon(clusterAgg(index, f.properties.cluster_id), f.properties.point_count));
      } else if (f.properties.id !== undefined && layer.setIcon) {
        var fid = f.properties.id;
        layer.setIcon(pointIcon(fid));
        if (!layer.getTooltip()) {
          layer.bindTooltip(function () { return pointTooltip(fid); }, {direction: "top", offset: [0, -8]});
          layer.on("click", function () { FM.openSite(S.cols.sites.id[S.pointSite[fid]]); });
        }
      }
    });
  };

  // Show only points of the allowed sites (array of site rows) or all (null); re-clusters in place.
  FM.setMask = function (sites, force) {
    var key = sites == null ? "" : sites.join(",");
    if (!force && key === S.maskKey) return false;
    S.mask = sites; S.maskKey = key;
    if (!S.index || !S.allPoints || !S.cols) return false;
    var pts = S.allPoints;
    if (sites != null) {
      var allow = new Uint8Array(S.cols.sites.id.length);
      for (var i = 0; i < sites.length; i++) allow[sites[i]] = 1;
      pts = pts.filter(function (f) { return allow[S.pointSite[f.properties.id]] === 1; });
    }
    S.index.load(pts);
    S.points = null; bindIndex(S.index); S.agg = null;
    if (S.group) S.group.clearLayers();
    if (S.map) S.map.fire("moveend");
    return true;
  };

  FM.stats = function () {
    return {clusters: document.querySelectorAll(".fl-cluster:not(.fl-pending)").length,
            points: document.querySelectorAll(".fl-point:not(.fl-pending)").length,
            indexed: S.points ? S.points.length : 0, marks: S.marks, aggMs: S.aggMs || 0, statusTs: S.statusTs, version: S.version};
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
