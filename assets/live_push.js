/* Fleetlight live push: applies Socket.IO batches (dash-socketio props) in the browser.
 *
 * State lives in window.flLive / window.flMarkets; rendering is coalesced to one animation frame,
 * so a display keeps up however many batches arrive. A 1 s ticker refreshes "updated N s ago"
 * labels and the stale/disconnected banner.
 */
(function () {
  const STALE_DATA_S = 60;     // newest measurement older than this: data stopped
  const STALE_PUSH_S = 45;     // no push at all for this long: stream stopped
  const live = (window.flLive = window.flLive || {sites: {}, fleet: null, meta: {}, connected: null, lastPush: 0, pushes: 0});
  const mk = (window.flMarkets = window.flMarkets || {nodes: {}, sites: {}, lastPush: 0});

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  function fmt(v, digits) {
    return v == null || isNaN(v) ? "—" : Number(v).toLocaleString(undefined, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  function ago(ms) {
    if (!ms) return "no data";
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 90) return "updated " + s + " s ago";
    if (s < 5400) return "updated " + Math.round(s / 60) + " min ago";
    return "updated " + Math.round(s / 3600) + " h ago";
  }
  const STATUS_CLASS = {producing: "success", idle: "secondary", stale: "warning", "no data": "dark"};

  let frame = null;
  function schedule(fn) {
    if (frame === null) frame = window.requestAnimationFrame(() => { frame = null; fn(); });
  }

  function renderLive() {
    const body = document.getElementById("lv-site-rows");
    const f = live.fleet;
    if (f) {
      setText("lv-kpi-output-value", fmt(f.o, 1) + " MW");
      setText("lv-kpi-output-detail", (f.cap ? fmt(100 * f.o / f.cap, 1) : "—") + " % of " + fmt(f.cap, 0) + " MW");
      setText("lv-kpi-expected-value", fmt(f.e, 1) + " MW");
      setText("lv-kpi-expected-detail", f.e ? "performance " + fmt(100 * f.eo / f.e, 1) + " % (sites with weather)" : "no weather reported");
      setText("lv-kpi-cf-value", f.cf == null ? "—" : fmt(100 * f.cf, 1) + " %");
      setText("lv-kpi-cf-detail", f.rep + " / " + f.sites + " sites reporting");
      setText("lv-kpi-energy-value", fmt(f.en, 1) + " MWh");
      const fresh = document.getElementById("lv-kpi-output");
      if (fresh) fresh.setAttribute("data-fl-ts", f.t || "");
    }
    if (!body) return;
    const ids = Object.keys(live.meta).sort((a, b) => (live.meta[a].k + live.meta[a].n).localeCompare(live.meta[b].k + live.meta[b].n));
    const filter = (live.filter || "").toLowerCase();
    const html = [];
    for (const id of ids) {
      const m = live.meta[id], s = live.sites[id] || {};
      if (filter && !(m.n.toLowerCase().includes(filter) || m.k.includes(filter) || (m.mk || "").toLowerCase().includes(filter))) continue;
      const pr = s.e ? (100 * (s.o || 0) / s.e) : null;
      const cls = STATUS_CLASS[s.st] || "dark";
      html.push('<tr data-site="' + esc(id) + '"><td><a href="/sites/' + encodeURIComponent(id) + '">' + esc(m.n) + "</a></td>" +
        "<td>" + esc(m.k) + '</td><td class="text-end o">' + fmt(s.o, 2) + '</td><td class="text-end e">' + fmt(s.e, 2) +
        '</td><td class="text-end">' + (pr == null ? "—" : fmt(pr, 0) + " %") + '</td><td class="text-end">' +
        (s.cf == null ? "—" : fmt(100 * s.cf, 1) + " %") + '</td><td class="text-end">' + fmt(s.en, 2) +
        '</td><td><span class="badge text-bg-' + cls + '">' + esc(s.st || "no data") + '</span></td>' +
        '<td class="small text-body-secondary fl-ago" data-fl-ts="' + (s.t || "") + '">' + ago(s.t) + "</td></tr>");
    }
    body.innerHTML = html.join("");
    tick();
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function renderMarkets() {
    const body = document.getElementById("mk-node-rows");
    if (!body) return;
    const now = Date.now();
    const mw = {};
    for (const [sid, mn] of Object.entries(mk.sites)) {
      const s = live.sites[sid];
      if (s && s.o != null) { const key = mn[0] + "|" + mn[1]; mw[key] = (mw[key] || 0) + s.o; }
    }
    const revenue = {};
    let spikes = 0;
    const rows = [];
    for (const key of Object.keys(mk.nodes).sort()) {
      const n = mk.nodes[key];
      const da = current(n.da, now, 3600000), rt = current(n.rt, now, (n.rt_minutes || 15) * 60000);
      const spread = da != null && rt != null ? rt - da : null;
      const spike = da != null && rt != null && rt >= da + Math.max(3 * (n.sigma || 5), 25);
      if (spike) spikes += 1;
      const m = mw[key] || 0;
      const rate = rt != null ? m * rt : null;
      if (rate != null) revenue[n.currency] = (revenue[n.currency] || 0) + rate;
      rows.push('<tr class="' + (spike ? "table-danger fw-semibold" : "") + '" data-node="' + esc(key) + '"><td>' + esc(n.market) +
        "</td><td>" + esc(n.node) + '</td><td class="text-end">' + fmt(da, 2) + '</td><td class="text-end mk-rt">' + fmt(rt, 2) +
        (spike ? ' <span class="badge text-bg-danger">spike</span>' : "") + '</td><td class="text-end ' +
        (spread > 0 ? "text-danger" : "text-success") + '">' + (spread == null ? "—" : (spread > 0 ? "+" : "") + fmt(spread, 2)) +
        '</td><td class="text-end">' + fmt(m, 2) + '</td><td class="text-end">' + (rate == null ? "—" : fmt(rate, 0) + " " + esc(n.currency) + "/h") +
        "</td><td>" + esc(n.currency) + "/MWh</td></tr>");
    }
    body.innerHTML = rows.join("");
    const parts = Object.entries(revenue).map(([c, v]) => fmt(v, 0) + " " + c + "/h");
    setText("mk-kpi-revenue-value", parts.length ? parts.join(" · ") : "—");
    setText("mk-kpi-spikes-value", String(spikes));
    setText("mk-kpi-nodes-value", String(Object.keys(mk.nodes).length));
  }

  function current(series, now, len) {
    if (!series || !series.length) return null;
    for (let i = series.length - 1; i >= 0; i--) {
      if (series[i][0] <= now) return now < series[i][0] + len ? series[i][1] : null;
    }
    return null;
  }

  function tick() {
    document.querySelectorAll("[data-fl-ts]").forEach((el) => {
      const ts = Number(el.getAttribute("data-fl-ts")) || 0;
      if (el.classList.contains("fl-ago")) el.textContent = ago(ts);
    });
    const out = document.getElementById("lv-kpi-output");
    if (out) setText("lv-kpi-output-ago", ago(Number(out.getAttribute("data-fl-ts")) || 0));
    const banner = document.getElementById("fl-live-banner");
    if (!banner) return;
    const pushAge = live.lastPush ? (Date.now() - live.lastPush) / 1000 : null;
    const dataAge = live.fleet && live.fleet.t ? (Date.now() - live.fleet.t) / 1000 : null;
    let text = "", cls = "";
    if (live.connected === false) {
      text = "Disconnected from the live feed — reconnecting. Figures below may be out of date.";
      cls = "alert alert-danger";
    } else if (pushAge !== null && pushAge > STALE_PUSH_S) {
      text = "No live update for " + Math.round(pushAge) + " s — the feed may have stopped.";
      cls = "alert alert-warning";
    } else if (dataAge !== null && dataAge > STALE_DATA_S) {
      text = "Stale data: the newest measurement is " + Math.round(dataAge) + " s old.";
      cls = "alert alert-warning";
    }
    banner.textContent = text;
    banner.className = text ? cls + " py-2 mb-3" : "d-none";
    banner.setAttribute("data-state", text ? (live.connected === false ? "disconnected" : "stale") : "live");
  }
  if (!window.__flTicker) window.__flTicker = window.setInterval(tick, 1000);

  function applyLive(msg) {
    if (!msg || !msg.sites) return;
    if (msg.full) live.sites = {};
    Object.assign(live.sites, msg.sites);
    if (msg.fleet) live.fleet = msg.fleet;
    live.lastPush = Date.now();
    live.pushes += 1;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fleetlight_live: {
      /* live_sites batch -> state, table, fleet chart and site chart extensions */
      applySites: function (msg, meta, site) {
        const nu = window.dash_clientside.no_update;
        if (meta) live.meta = meta;
        if (!msg) return [nu, nu];
        applyLive(msg);
        schedule(() => { renderLive(); renderMarkets(); });
        // charts redraw at most once a second each: a Plotly redraw costs far more than a table update
        if (msg.full) return [nu, nu];
        const t = new Date(msg.now), now = Date.now();
        let fleetExt = nu, siteExt = nu;
        if (msg.fleet && now - (live.fleetChartAt || 0) >= 1000) {
          live.fleetChartAt = now;
          fleetExt = [{x: [[t], [t]], y: [[msg.fleet.o], [msg.fleet.e]]}, [0, 1], 2400];
        }
        const s = site && msg.sites[site];
        if (s && now - (live.siteChartAt || 0) >= 1000) {
          live.siteChartAt = now;
          siteExt = [{x: [[t], [t]], y: [[s.o], [s.e]]}, [0, 1], 2400];
        }
        return [fleetExt, siteExt];
      },
      /* live_sites on the markets page: only the MW per node matters there */
      sitesForMarkets: function (msg) {
        if (msg) { applyLive(msg); schedule(renderMarkets); }
        return window.dash_clientside.no_update;
      },
      connection: function (connected) {
        live.connected = connected === undefined ? null : !!connected;
        tick();
        return connected ? "live" : "offline";
      },
      filter: function (text) {
        live.filter = text || "";
        schedule(renderLive);
        return window.dash_clientside.no_update;
      },
      /* markets_prices full state or increment */
      applyPrices: function (msg) {
        if (!msg) return window.dash_clientside.no_update;
        if (msg.full) {
          mk.nodes = {};
          for (const n of msg.nodes) mk.nodes[n.market + "|" + n.node] = n;
          mk.sites = msg.sites || {};
        } else {
          for (const p of msg.prices || []) {
            const key = p.market + "|" + p.node;
            const n = mk.nodes[key] || (mk.nodes[key] = {market: p.market, node: p.node, currency: "", da: [], rt: [], rt_minutes: 15});
            const arr = p.type === "DA" ? n.da : n.rt;
            arr.push([p.start, p.price]);
            arr.sort((a, b) => a[0] - b[0]);
          }
        }
        mk.lastPush = Date.now();
        schedule(renderMarkets);
        return msg.now;
      },
      /* overview_kpis -> overview tiles */
      applyOverview: function (msg) {
        if (!msg || !msg.fleet) return window.dash_clientside.no_update;
        const f = msg.fleet;
        live.fleet = f;
        live.lastPush = Date.now();
        setText("ov-kpi-output-value", fmt(f.o, 1) + " MW");
        setText("ov-kpi-output-detail", (f.cap ? fmt(100 * f.o / f.cap, 1) : "0.0") + " % of " + fmt(f.cap, 0) + " MW capacity");
        setText("ov-kpi-energy-value", fmt(f.en, 1) + " MWh");
        setText("ov-kpi-sites-value", f.rep + " / " + f.sites);
        if (f.t) setText("ov-updated", "last data " + new Date(f.t).toISOString().replace("T", " ").slice(0, 19) + " UTC · live");
        tick();
        return msg.now;
      },
    },
  });
})();
