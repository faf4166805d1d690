/* Fleetlight wall display: draws the control-room screen from the shared live state that
 * assets/live_push.js keeps (window.flLive, window.flMarkets), once a second. Only runs on /wall.
 * KPI figures are the server's texts (<kpi payload>.text, fleet and per market); the statuses and
 * their colours come from the server (live_sites constants, the page's meta store). */
(function () {
  const wall = (window.flWall = window.flWall || {meta: {}});
  function fmt(v, d) {
    return v == null || isNaN(v) ? "—" : Number(v).toLocaleString(undefined, {minimumFractionDigits: d, maximumFractionDigits: d});
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  function setText(id, text) {
    const el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }
  function current(series, now, len) {
    if (!series || !series.length) return null;
    for (let i = series.length - 1; i >= 0; i--) {
      if (series[i][0] <= now) return now < series[i][0] + len ? series[i][1] : null;
    }
    return null;
  }

  function renderKpis(live, now) {
    if (live.fleet && window.flLiveWriteKpis) window.flLiveWriteKpis(live.fleet);
    const last = live.fleet && live.fleet.values ? live.fleet.values.last_ts_ms : null;
    const age = last ? Math.round((now - last) / 1000) : null;
    setText("wall-kpi-sites-detail", age == null ? "no data yet" : "newest data " + age + " s ago");
  }

  function renderBoard(live, mk) {
    const board = document.getElementById("wall-board");
    const c = live.constants;
    if (!board || !c) return;
    const colors = live.colors || {};
    const markets = {};
    for (const [id, m] of Object.entries(wall.meta)) {
      const s = live.sites[id] || {};
      const g = (markets[m.mk] = markets[m.mk] || {counts: {}, attention: []});
      const st = s.status || "";
      g.counts[st] = (g.counts[st] || 0) + 1;
      if (c.reporting_statuses.indexOf(st) < 0) g.attention.push(m.n);
    }
    const cards = [];
    for (const market of Object.keys(markets).sort()) {
      const g = markets[market];
      const text = ((mk.kpis || {})[market] || {}).text || {};
      const total = Object.values(g.counts).reduce((a, b) => a + b, 0) || 1;
      const shown = c.statuses.filter((s) => g.counts[s]);
      const bar = shown.map((s) => '<span class="wall-bar-seg" data-status="' + esc(s) + '" style="background:' +
        esc(colors[s] || "#6c757d") + ";width:" + (100 * g.counts[s] / total) + '%"></span>').join("");
      const legend = shown.map((s) => '<span class="wall-count"><span class="wall-swatch" style="background:' +
        esc(colors[s] || "#6c757d") + '"></span>' + g.counts[s] + " " + esc(s) + "</span>").join("");
      const attention = g.attention.length ? '<div class="wall-attention">needs attention: ' + esc(g.attention.slice(0, 4).join(", ")) +
        (g.attention.length > 4 ? " +" + (g.attention.length - 4) : "") + "</div>" : "";
      const scope = 'data-kpi-scope="market:' + esc(market) + '"';
      cards.push('<div class="wall-card" data-market="' + esc(market) + '"><div class="wall-card-head"><span>' + esc(market) +
        '</span><span class="wall-card-mw"><span ' + scope + ' data-kpi="output_mw">' + esc(text.output_mw || "—") +
        '</span> <small>of <span ' + scope + ' data-kpi="capacity_mw">' + esc(text.capacity_mw || "—") +
        '</span></small></span></div><div class="wall-bar">' + bar + '</div><div class="wall-legend">' + legend + "</div>" +
        attention + "</div>");
    }
    const html = cards.join("");
    if (board.innerHTML !== html) board.innerHTML = html;
  }

  function renderPrices(live, mk, now) {
    const box = document.getElementById("wall-prices");
    if (!box) return;
    const sold = new Set(Object.values(mk.sites || {}).map((mn) => mn[0] + "|" + mn[1]));
    const rows = [];
    for (const key of Object.keys(mk.nodes || {}).sort()) {
      const n = mk.nodes[key];
      const da = current(n.da, now, 3600000), rt = current(n.rt, now, (n.rt_minutes || 15) * 60000);
      if (!sold.has(key) && rows.length > 10) continue;  // keep the ticker to the nodes the fleet sells at
      const spread = da != null && rt != null ? rt - da : null;
      const spike = spread != null && spread >= Math.max(3 * (n.sigma || 5), 25);
      rows.push('<div class="wall-price' + (spike ? " wall-spike" : "") + '"><span class="wall-node">' + esc(n.market) + " " + esc(n.node) +
        '</span><span class="wall-rt">' + fmt(rt, 1) + '</span><span class="wall-spread ' + (spread > 0 ? "up" : "down") + '">' +
        (spread == null ? "" : (spread > 0 ? "▲" : "▼") + fmt(Math.abs(spread), 1)) + "</span>" +
        '<span class="wall-cur">' + esc(n.currency) + "/MWh</span></div>");
    }
    const html = rows.join("") || '<div class="wall-price">no prices yet</div>';
    if (box.innerHTML !== html) box.innerHTML = html;
  }

  function renderHeader(live, now) {
    setText("wall-clock", new Date(now).toISOString().slice(0, 19).replace("T", " ") + " UTC");
    const dot = document.getElementById("wall-dot");
    if (dot) dot.className = "wall-dot me-1 " + (live.connected ? "on" : "off");
  }

  function render() {
    if (!document.getElementById("wall-root")) return;
    const live = window.flLive || {sites: {}}, mk = window.flMarkets || {nodes: {}, sites: {}};
    const now = Date.now();
    renderHeader(live, now);
    renderKpis(live, now);
    renderBoard(live, mk);
    renderPrices(live, mk, now);
  }

  setInterval(render, 1000);
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fleetlight_wall: {
      setMeta: function (meta) {
        wall.meta = (meta && meta.sites) || {};
        const live = (window.flLive = window.flLive || {sites: {}});
        live.colors = (meta && meta.status_colors) || {};
        render();
        return window.dash_clientside.no_update;
      },
    },
  });
})();
