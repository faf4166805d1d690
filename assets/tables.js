/* Data tables (components/data_table.py): the empty state under the toolbar says why a grid shows no
 * rows: it has none at all (the table's own reason, data-empty) or its filters hide them all
 * (data-no-match). Called by the grid's modelUpdated listener, whatever fed the rows. */
(function () {
  const fns = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  /* Push-fed grids register here the function that writes their rows ({tableId: fn}); it runs once the
   * grid is ready, so rows pushed before it mounted are not lost. */
  const feeds = (window.flTableFeeds = window.flTableFeeds || {});
  fns.flTableState = function (params, tableId) {
    window.__flStateCalls = (window.__flStateCalls || 0) + 1;
    if (!params || !params.api) return;
    if (!params.api.__flFed && feeds[tableId]) {
      params.api.__flFed = true;
      window.setTimeout(feeds[tableId], 0);
    }
    const el = document.getElementById(tableId + "-empty");
    if (!el) return;
    let total = 0;
    params.api.forEachNode(() => { total += 1; });
    const shown = params.api.getDisplayedRowCount();
    const text = total === 0 ? el.getAttribute("data-empty") : shown === 0 ? el.getAttribute("data-no-match") : "";
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle("d-none", !text);
  };
})();
