/* Fleet map capacity inputs (components/map_view.filters_card): the range slider clamps a typed
 * minimum above the maximum (or a maximum below the minimum) to the other bound without a word; this
 * says so under the slider, with both numbers, and clears the note once the bounds are in order. */
(function () {
  const WRAP = "map-f-capacity-wrap", NOTE = "map-f-capacity-note";
  function check(ev) {
    const el = ev.target;
    if (!(el instanceof HTMLInputElement) || !el.closest("#" + WRAP)) return;
    const wrap = document.getElementById(WRAP), note = document.getElementById(NOTE);
    const minEl = wrap.querySelector("input.dash-range-slider-min-input");
    const maxEl = wrap.querySelector("input.dash-range-slider-max-input");
    if (!note || !minEl || !maxEl || minEl.value === "" || maxEl.value === "") return;
    const lo = Number(minEl.value), hi = Number(maxEl.value);
    let text = "";
    if (Number.isFinite(lo) && Number.isFinite(hi) && lo > hi) {
      text = el === minEl
        ? "Minimum " + lo + " MW is above the maximum " + hi + " MW: it is held at " + hi + " MW. Raise the maximum first."
        : "Maximum " + hi + " MW is below the minimum " + lo + " MW: it is held at " + lo + " MW. Lower the minimum first.";
    }
    if (text || ev.type === "input") note.textContent = text;
  }
  document.addEventListener("input", check, true);
  document.addEventListener("change", check, true);
})();
