/* Fleetlight live push: applies Socket.IO batches (dash-socketio props) in the browser.
 *
 * The server owns every fleet rule. KPI tiles show the `text` of the hub's <kpi payload> (formatted
 * by domain.kpis.format_kpis): an element carrying data-kpi-scope="<scope>[:<id>]" and
 * data-kpi="<key>" receives payload.text[key]; nothing is formatted here. The statuses, their
 * severity order and the staleness threshold come in the `constants` of the full live state.
 *
 * State lives in window.flLive / window.flMarkets; rendering is coalesced to one animation frame,
 * so a display keeps up however many batches arrive. A 1 s ticker refreshes "updated N s ago"
 * labels and the stale/disconnected banner.
 */
(function () {
  const live = (window.flLive = window.flLive || {sites: {}, fleet: null, meta: {}, colors: {}, constants: null,
                                                  connected: null, lastPush: 0, pushes: 0});
  const mk = (window.flMarkets = window.flMarkets || {nodes: {}, sites: {}, kpis: {}, lastPush: 0});

  function ago(ms) {
    if (!ms) return "no data";
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 90) return "updated " + s + " s ago";
    if (s < 5400) return "updated " + Math.round(s / 60) + " min ago";
    return "updated " + Math.round(s / 3600) + " h ago";
  }

  let frame = null;
  const CHART_EVERY_MS = 10000, CHART_MAX_POINTS = 6 * 360 + 24;

  function schedule(fn) {
    if (frame === null) frame = window.requestAnimationFrame(() => { frame = null; fn(); });
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  /* The scope key of a <kpi payload>: "fleet", "market:ERCOT", "site:t-sol". */
  function scopeKey(payload) {
    return payload.id == null ? payload.scope : payload.scope + ":" + payload.id;
  }

  /* Write the texts of a <kpi payload> into every element that names one of its keys. */
  function writeKpis(payload) {
    if (!payload || !payload.text) return;
    const key = scopeKey(payload);
    document.querySelectorAll('[data-kpi-scope="' + key.replace(/"/g, '\\"') + '"][data-kpi]').forEach((el) => {
      const text = payload.text[el.getAttribute("data-kpi")];
      if (text != null && el.textContent !== text) el.textContent = text;
    });
    document.querySelectorAll('[data-kpi-ts="' + key.replace(/"/g, '\\"') + '"]').forEach((el) => {
      el.setAttribute("data-fl-ts", payload.values && payload.values.last_ts_ms ? payload.values.last_ts_ms : "");
    });
  }

  /* The AG Grid api of the table ``id`` (components/data_table.py), or null while it is not on the page or
     not ready yet; in that case ``retry`` runs once it is. */
  function gridApi(id, retry) {
    const dag = window.dash_ag_grid;
    if (!dag || !document.getElementById(id)) return null;
    try {
      const api = dag.getApi(id);
      if (api) return api;
    } catch (e) { /* not initialised yet */ }
    if (retry && dag.getApiAsync && !gridApi.waiting[id]) {
      gridApi.waiting[id] = true;
      dag.getApiAsync(id).then(() => { gridApi.waiting[id] = false; retry(); }, () => { gridApi.waiting[id] = false; });
    }
    return null;
  }
  gridApi.waiting = {};

  /* A markdown link for the grid's markdown cells (brackets dropped from the text). */
  function mdLink(text, href) {
    return "[" + String(text == null ? "" : text).replace(/[\[\]]/g, "") + "](" + href + ")";
  }

  /* Set the rows of a grid (its empty state follows: assets/tables.js). */
  function setRows(api, rows) {
    api.setGridOption("rowData", rows);
  }

  /* Rewrite a push-fed grid that holds no row while the state has ``count`` (a grid that mounted or
     re-mounted after the rows were written starts empty). */
  function heal(id, count, render) {
    const api = count ? gridApi(id) : null;
    if (!api) return;
    let rows = 0;
    api.forEachNode(() => { rows += 1; });
    if (!rows) render();
  }

  /* The rows of the live site table: the server's figures of each site, unformatted (the grid formats). */
  function liveRows() {
    const rows = [];
    for (const id of Object.keys(live.meta)) {
      const m = live.meta[id], s = live.sites[id] || {};
      rows.push({site_id: id, name: m.n, name_link: mdLink(m.n, "/sites/" + encodeURIComponent(id)), kind: m.k, market: m.mk || "",
        output_mw: s.output_mw, expected_mw: s.expected_mw,
        performance_pct: s.performance_pct,  // the server's rule (domain.kpis.ratio_pct): null = not meaningful now
        cf_pct: s.capacity_factor == null ? null : 100 * s.capacity_factor, energy_today_mwh: s.energy_today_mwh,
        status: s.status || "", last_ts_ms: s.last_ts_ms || null, freshness: ago(s.last_ts_ms)});
    }
    rows.sort((a, b) => (a.kind + a.name).localeCompare(b.kind + b.name));
    return rows;
  }

  function renderLive() {
    if (live.fleet) writeKpis(live.fleet);
    const api = gridApi("lv-site-grid", renderLive);
    if (!api) return;
    setRows(api, liveRows());
    api.setGridOption("quickFilterText", live.filter || "");
    tick();
  }

  function renderMarkets() {
    if (live.fleet) writeKpis(live.fleet);
    for (const payload of Object.values(mk.kpis)) writeKpis(payload);
    const api = gridApi("mk-node-grid", renderMarkets);
    const now = Date.now();
    let spikes = 0;
    const rows = [];
    for (const key of Object.keys(mk.nodes).sort()) {
      const n = mk.nodes[key];
      const da = current(n.da, now, 3600000), rt = current(n.rt, now, (n.rt_minutes || 15) * 60000);
      const spread = da != null && rt != null ? rt - da : null;
      const spike = da != null && rt != null && rt >= da + Math.max(3 * (n.sigma || 5), 25);
      if (spike) spikes += 1;
      rows.push({key: key, market: n.market, node: n.node, da: da, rt: rt, spread: spread, spike: spike ? "spike" : "",
                 fleet_sites: nodeSites(key), unit: (n.currency || "") + "/MWh"});
    }
    if (api) setRows(api, rows);
    setText("mk-kpi-spikes-value", String(spikes));
    setText("mk-kpi-nodes-value", String(Object.keys(mk.nodes).length));
  }

  /* How many of the fleet's sites sell at the node "market|node" (a count, not a figure of output). */
  function nodeSites(key) {
    let n = 0;
    for (const mn of Object.values(mk.sites)) if (mn[0] + "|" + mn[1] === key) n += 1;
    return n;
  }

  function current(series, now, len) {
    if (!series || !series.length) return null;
    for (let i = series.length - 1; i >= 0; i--) {
      if (series[i][0] <= now) return now < series[i][0] + len ? series[i][1] : null;
    }
    return null;
  }

  function tick() {
    document.querySelectorAll(".fl-ago[data-fl-ts]").forEach((el) => {
      el.textContent = ago(Number(el.getAttribute("data-fl-ts")) || 0);
    });
    heal("mk-node-grid", Object.keys(mk.nodes).length, renderMarkets);
    heal("lv-site-grid", Object.keys(live.meta).length, renderLive);
    const grid = gridApi("lv-site-grid");
    if (grid) grid.forEachNode((node) => {
      const text = node.data ? ago(node.data.last_ts_ms) : "";
      if (node.data && node.data.freshness !== text) node.setDataValue("freshness", text);
    });
    const banner = document.getElementById("fl-live-banner");
    const c = live.constants;
    const pushAge = live.lastPush ? (Date.now() - live.lastPush) / 1000 : null;
    const last = live.fleet && live.fleet.values ? live.fleet.values.last_ts_ms : null;
    const dataAge = last ? (Date.now() - last) / 1000 : null;
    let text = "", cls = "";
    if (live.connected === false) {
      text = "Disconnected from the live feed — reconnecting. Figures below may be out of date.";
      cls = "alert alert-danger";
    } else if (c && pushAge !== null && pushAge > 2 * c.full_resync_s) {
      text = "No live update for " + Math.round(pushAge) + " s — the feed may have stopped.";
      cls = "alert alert-warning";
    } else if (c && dataAge !== null && dataAge > c.stale_after_s) {
      text = "Stale data: the newest measurement is " + Math.round(dataAge) + " s old.";
      cls = "alert alert-warning";
    }
    const state = text ? (live.connected === false ? "disconnected" : "stale") : (c ? "live" : "init");
    if (banner) {
      banner.textContent = text;
      banner.className = text ? cls + " py-2 mb-3" : "d-none";
      banner.setAttribute("data-state", state);
    }
    // the overview and the wall get no constants (no live_sites): connected and no banner is live there
    writeConnection(state === "init" && live.connected ? "live" : state);
  }

  /* The header's feed state ([data-fl-conn]) says what the banner says: "live" only while no banner shows. */
  const CONN_TEXT = {live: "live", stale: "no recent data", disconnected: "disconnected", init: "connecting"};
  const CONN_CLASS = {live: "text-success-emphasis", stale: "text-warning-emphasis", disconnected: "text-danger-emphasis",
                      init: "text-body-secondary"};
  function writeConnection(state) {
    document.querySelectorAll("[data-fl-conn]").forEach((el) => {
      const text = CONN_TEXT[state] || state;
      if (el.textContent !== text) el.textContent = text;
      el.setAttribute("data-state", state);
    });
    document.querySelectorAll("[data-fl-conn-dot]").forEach((el) => {
      el.className = "me-1 " + (CONN_CLASS[state] || "");
    });
  }
  if (!window.__flTicker) window.__flTicker = window.setInterval(tick, 1000);

  function applyLive(msg) {
    if (!msg || !msg.sites) return;
    if (msg.full) live.sites = {};
    if (msg.constants) live.constants = msg.constants;
    Object.assign(live.sites, msg.sites);
    if (msg.fleet) live.fleet = msg.fleet;
    live.lastPush = Date.now();
    live.pushes += 1;
  }

  /* The page's site meta store: {sites: {id: {n, k, c, mk, nd}}, status_colors: {status: colour}}. */
  function setMeta(meta) {
    if (!meta) return;
    live.meta = meta.sites || {};
    live.colors = meta.status_colors || {};
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fleetlight_live: {
      /* live_sites batch -> state, KPI texts, table, fleet chart and site chart extensions */
      applySites: function (msg, meta, site) {
        const nu = window.dash_clientside.no_update;
        setMeta(meta);
        if (!msg) return [nu, nu];
        applyLive(msg);
        schedule(() => { renderLive(); renderMarkets(); });
        // charts take a point at most every CHART_EVERY_MS (a Plotly redraw costs far more than a table
        // update): 6 h of them plus the 24 seeded quarter hours fit CHART_MAX_POINTS, so the window
        // stays the 6 h its title says (a point a second with 2,400 kept showed only the last 40 min)
        if (msg.full) return [nu, nu];
        const t = new Date(msg.now_ms), now = Date.now();
        let fleetExt = nu, siteExt = nu;
        const fv = msg.fleet && msg.fleet.values;
        if (fv && now - (live.fleetChartAt || 0) >= CHART_EVERY_MS) {
          live.fleetChartAt = now;
          fleetExt = [{x: [[t], [t]], y: [[fv.output_mw], [fv.expected_mw]]}, [0, 1], CHART_MAX_POINTS];
        }
        const s = site && msg.sites[site];
        if (s && now - (live.siteChartAt || 0) >= CHART_EVERY_MS) {
          live.siteChartAt = now;
          siteExt = [{x: [[t], [t]], y: [[s.output_mw], [s.expected_mw]]}, [0, 1], CHART_MAX_POINTS];
        }
        return [fleetExt, siteExt];
      },
      /* live_sites on the markets page and the wall: state and fleet KPI texts */
      sitesForMarkets: function (msg) {
        if (msg) { applyLive(msg); schedule(renderMarkets); }
        return window.dash_clientside.no_update;
      },
      /* market_kpis -> the per-market KPI texts */
      applyMarketKpis: function (msg) {
        if (!msg || !msg.markets) return window.dash_clientside.no_update;
        Object.assign(mk.kpis, msg.markets);
        schedule(renderMarkets);
        return msg.now_ms;
      },
      connection: function (connected) {
        live.connected = connected === undefined ? null : !!connected;
        tick();  // writes the header's state ([data-fl-conn]) from the same rule as the banner
        return window.dash_clientside.no_update;
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
        live.fleet = msg.fleet;
        live.lastPush = Date.now();
        writeKpis(msg.fleet);
        tick();
        return msg.now_ms;
      },
      /* site_live -> the site page's KPI texts */
      applySite: function (msg) {
        if (!msg || !msg.kpis) return window.dash_clientside.no_update;
        writeKpis(msg.kpis);
        return msg.now_ms;
      },
    },
  });
  window.flLiveWriteKpis = writeKpis;
  window.flTableFeeds = Object.assign(window.flTableFeeds || {}, {"lv-site-grid": renderLive, "mk-node-grid": renderMarkets});
})();
