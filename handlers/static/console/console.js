/* Draws the console's charts with Chart.js (vendor/chart.umd.min.js) from the data the
   page carries in #console-charts. Each chart is kept in window.consoleCharts by name. */
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("console-charts").textContent);
  var fontFamily = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.family = fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#14181f";
  window.consoleCharts = {};

  function dataset(spec, item) {
    var colour = item.colors || item.color;
    return {
      label: item.label,
      data: item.data,
      backgroundColor: spec.stacked ? item.color + "cc" : colour,
      borderColor: item.color || "#0f766e",
      borderWidth: spec.type === "line" ? 2 : 0,
      fill: spec.stacked ? true : false,
      pointRadius: spec.type === "line" && item.data.length > 40 ? 0 : 2,
      tension: 0.2
    };
  }

  function options(spec) {
    var stacked = Boolean(spec.stacked);
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: spec.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
      scales: {
        x: { stacked: stacked, beginAtZero: true,
             ticks: { maxRotation: 0, autoSkipPadding: 12, precision: 0 } },
        y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
      }
    };
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = specs[canvas.dataset.chart];
    if (!spec) { return; }
    window.consoleCharts[canvas.dataset.chart] = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (item) {
        return dataset(spec, item);
      }) },
      options: options(spec)
    });
  });
})();
