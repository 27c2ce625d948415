// Draws the dashboard's charts from the JSON the server put in #chart-data, with the
// Chart.js the server serves itself. A page without charts, or without the library, still
// shows every figure in its tables.
(function () {
  "use strict";
  var data = document.getElementById("chart-data");
  if (!data || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(data.textContent);
  var palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2",
                 "#db2777", "#65a30d", "#ea580c", "#4b5563"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var chart = charts[canvas.dataset.chart];
    if (!chart) { return; }
    var round = chart.type === "doughnut" || chart.type === "pie";
    var series = chart.series || [{ label: "", values: chart.values }];
    new Chart(canvas, {
      type: chart.type === "table" ? "bar" : chart.type,
      data: {
        labels: chart.labels,
        datasets: series.map(function (s, i) {
          return {
            label: s.label, data: s.values,
            backgroundColor: round ? palette : palette[i % palette.length],
            borderColor: round ? "#fff" : palette[i % palette.length]
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: round || series.length > 1, position: "bottom" } }
      }
    });
    canvas.dataset.drawn = "true";
  });
}());
