/* Fleetlight wall display: draws the control-room screen from the shared live state that
 * assets/live_push.js keeps (window.flLive, window.flMarkets), once a second. Only runs on /wall. */
(function () {
  const STATUSES = ["producing", "idle", "curtailed", "fault", "stale", "offline", "no data"];
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
    const f = live.fleet;
    if (!f) return;
    setText("wall-kpi-output", fmt(f.o, 1) + " MW");
    setText("wall-kpi-output-detail", (f.cap ? fmt(100 * f.o / f.cap, 1) : "—") + " % of " + fmt(f.cap, 0) + " MW");
    setText("wall-kpi-expected", fmt(f.e, 1) + " MW");
    setText("wall-kpi-expected-detail", f.e ? "performance " + fmt(100 * f.eo / f.e, 0) + " %" : "no weather reported");
    setText("wall-kpi-cf", f.cf == null ? "—" : fmt(100 * f.cf, 1) + " %");
    setText("wall-kpi-cf-detail", "of generating capacity");
    setText("wall-kpi-energy", fmt(f.en, 0) + " MWh");
    setText("wall-kpi-energy-detail", "since 00:00 UTC");
    setText("wall-kpi-sites", f.rep + " / " + f.sites);
    const age = f.t ? Math.round((now - f.t) / 1000) : null;
    setText("wall-kpi-sites-detail", age == null ? "no data yet" : "newest data " + age + " s ago");
  }

  function renderBoard(live) {
    const board = document.getElementById("wall-board");
    if (!board) return;
    const markets = {};
    for (const [id, m] of Object.entries(wall.meta)) {
      const s = live.sites[id] || {};
      const g = (markets[m.mk] = markets[m.mk] || {out: 0, cap: 0, counts: {}, attention: []});
      const st = s.st || "no data";
      g.counts[st] = (g.counts[st] || 0) + 1;
      if (m.k !== "substation") { g.out += s.o || 0; g.cap += m.c || 0; }
      if (st === "stale" || st === "no data" || st === "fault" || st === "offline") g.attention.push(m.n);
    }
    const cards = [];
    for (const mk of Object.keys(markets).sort()) {
      const g = markets[mk];
      const total = Object.values(g.counts).reduce((a, b) => a + b, 0) || 1;
      const bar = STATUSES.filter((s) => g.counts[s]).map((s) =>
        '<span class="wall-bar-seg wall-st-' + s.replace(" ", "-") + '" style="width:' + (100 * g.counts[s] / total) + '%"></span>').join("");
      const legend = STATUSES.filter((s) => g.counts[s]).map((s) =>
        '<span class="wall-count"><span class="wall-swatch wall-st-' + s.replace(" ", "-") + '"></span>' + g.counts[s] + " " + s + "</span>").join("");
      const attention = g.attention.length ? '<div class="wall-attention">needs attention: ' + esc(g.attention.slice(0, 4).join(", ")) +
        (g.attention.length > 4 ? " +" + (g.attention.length - 4) : "") + "</div>" : "";
      cards.push('<div class="wall-card"><div class="wall-card-head"><span>' + esc(mk) + '</span><span class="wall-card-mw">' +
        fmt(g.out, 1) + " MW <small>of " + fmt(g.cap, 0) + '</small></span></div><div class="wall-bar">' + bar +
        '</div><div class="wall-legend">' + legend + "</div>" + attention + "</div>");
    }
    const html = cards.join("");
    if (board.innerHTML !== html) board.innerHTML = html;
  }

  function renderPrices(live, mk, now) {
    const box = document.getElementById("wall-prices");
    if (!box) return;
    const mw = {};
    for (const [sid, mn] of Object.entries(mk.sites || {})) {
      const s = live.sites[sid];
      if (s && s.o != null) { const key = mn[0] + "|" + mn[1]; mw[key] = (mw[key] || 0) + s.o; }
    }
    const revenue = {};
    const rows = [];
    for (const key of Object.keys(mk.nodes || {}).sort()) {
      const n = mk.nodes[key];
      const da = current(n.da, now, 3600000), rt = current(n.rt, now, (n.rt_minutes || 15) * 60000);
      if (rt != null && mw[key]) revenue[n.currency] = (revenue[n.currency] || 0) + mw[key] * rt;
      if (!mw[key] && rows.length > 10) continue;  // keep the ticker to the nodes the fleet sells at
      const spread = da != null && rt != null ? rt - da : null;
      const spike = spread != null && spread >= Math.max(3 * (n.sigma || 5), 25);
      rows.push('<div class="wall-price' + (spike ? " wall-spike" : "") + '"><span class="wall-node">' + esc(n.market) + " " + esc(n.node) +
        '</span><span class="wall-rt">' + fmt(rt, 1) + '</span><span class="wall-spread ' + (spread > 0 ? "up" : "down") + '">' +
        (spread == null ? "" : (spread > 0 ? "▲" : "▼") + fmt(Math.abs(spread), 1)) + "</span>" +
        '<span class="wall-cur">' + esc(n.currency) + "/MWh</span></div>");
    }
    const html = rows.join("") || '<div class="wall-price">no prices yet</div>';
    if (box.innerHTML !== html) box.innerHTML = html;
    const parts = Object.entries(revenue).map(([c, v]) => fmt(v, 0) + " " + c + "/h");
    setText("wall-kpi-revenue", parts.length ? parts[0] : "—");
    setText("wall-kpi-revenue-detail", parts.slice(1).join(" · ") || "fleet MW × real-time price");
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
    renderBoard(live);
    renderPrices(live, mk, now);
  }

  setInterval(render, 1000);
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    fleetlight_wall: {
      setMeta: function (meta) {
        wall.meta = meta || {};
        render();
        return window.dash_clientside.no_update;
      },
    },
  });
})();
