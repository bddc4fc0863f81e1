// Draws the report's charts from the data in each canvas's data-chart attribute (the CSP
// allows scripts from the console itself only: no inline script). Right-to-left aware: in
// Arabic the bars grow from the right, time runs from right to left, and the legend and
// tooltips read right to left. `type: "line"` (the trend) draws a line per series over the
// labels (across months without a value, which stay without a point); otherwise horizontal bars.
/* global Chart */
const COLORS = ["#00573a", "#b3261e", "#8a4b00"];
for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  const data = JSON.parse(canvas.dataset.chart);
  const rtl = canvas.dataset.rtl === "1";
  const line = data.type === "line";
  // A box as high as the canvas asks: Chart.js sizes a chart to its container, and without a
  // height of its own the container grows with the chart (set here: the CSP allows no style attribute).
  const box = document.createElement("div");
  box.style.position = "relative";
  box.style.height = `${canvas.getAttribute("height")}px`;
  canvas.before(box);
  box.append(canvas);
  new Chart(canvas, {
    type: line ? "line" : "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map((s, i) => ({ label: s.label, data: s.values, backgroundColor: COLORS[i % 3], borderColor: COLORS[i % 3], spanGaps: true, pointRadius: 4 })),
    },
    options: {
      indexAxis: line ? "x" : "y",
      locale: rtl ? "ar" : "en",
      animation: false,
      maintainAspectRatio: false,
      // Room for the first and last month's slanted names at the chart's sides.
      layout: { padding: line ? { left: 28, right: 28 } : 0 },
      scales: line
        ? { x: { reverse: rtl }, y: { position: rtl ? "right" : "left", beginAtZero: true } }
        : { x: { reverse: rtl, beginAtZero: true, max: data.max }, y: { position: rtl ? "right" : "left" } },
      plugins: {
        legend: { rtl, textDirection: rtl ? "rtl" : "ltr" },
        tooltip: { rtl, textDirection: rtl ? "rtl" : "ltr" },
      },
    },
  });
  canvas.dataset.drawn = "1";
}
