/* WCAG contrast of every visible text element of the page (tests/pages/test_contrast_browser.py).
 * An element counts when it has a text node of its own; its colour (alpha and ancestors' opacity
 * included) is composited over its effective background: the background colours of it and its
 * ancestors, stacked up to the first opaque one (white below all). Returns the failures under
 * arguments[0] (the ratio required), each {text, ratio, fg, bg, where}. SVG text (Plotly charts) is
 * left out: it is drawn with fill, not color, and the charts follow the theme through their template. */
const minimum = arguments[0];
function parse(c) {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, bottom) {  // composite top (rgba) over an opaque bottom
  const a = top[3];
  return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
}
function lum(c) {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
}
function background(el) {
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let color = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
  return color;
}
function opacity(el) {
  let o = 1;
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) o *= Number(getComputedStyle(node).opacity);
  return o;
}
function where(el) {
  const parts = [];
  for (let node = el; node && node.nodeType === 1 && parts.length < 4; node = node.parentElement) {
    parts.unshift(node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") +
      (typeof node.className === "string" && node.className ? "." + node.className.trim().split(/\s+/).slice(0, 2).join(".") : ""));
  }
  return parts.join(" > ");
}
const failures = [];
let checked = 0;
for (const el of document.body.querySelectorAll("*")) {
  // map tiles are images: text over them (cluster labels) is drawn on its own badge, not checked here
  if (el.closest("svg, script, style, noscript, [aria-hidden='true'], .visually-hidden, .leaflet-container")) continue;
  const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const style = getComputedStyle(el);
  if (style.visibility !== "visible" || style.display === "none") continue;
  const rect = el.getBoundingClientRect();
  if (rect.width < 1 || rect.height < 1) continue;
  if (el.closest(":disabled, [aria-disabled='true'], .disabled")) continue;  // WCAG 1.4.3 exempts inactive controls
  const o = opacity(el);
  if (o < 0.05) continue;
  const bg = background(el);
  const fgRaw = parse(style.color);
  const fg = over([fgRaw[0], fgRaw[1], fgRaw[2], fgRaw[3] * o], bg);
  const a = lum(fg), b = lum(bg);
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  checked += 1;
  if (ratio < minimum) failures.push({text: el.textContent.trim().slice(0, 60), ratio: Math.round(ratio * 100) / 100,
    fg: style.color, bg: "rgb(" + bg.slice(0, 3).map(Math.round).join(",") + ")", where: where(el)});
}
return {checked: checked, failures: failures};
