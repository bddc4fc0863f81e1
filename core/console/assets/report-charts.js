// Draws the report's charts from the data in each canvas's data-chart attribute (the CSP
// allows scripts from the console itself only: no inline script). Right-to-left aware: in
// Arabic the bars grow from the right and the legend and tooltips read right to left.
/* global Chart */
for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  const data = JSON.parse(canvas.dataset.chart);
  const rtl = canvas.dataset.rtl === "1";
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map((s, i) => ({ label: s.label, data: s.values, backgroundColor: ["#00573a", "#b3261e", "#8a4b00"][i % 3] })),
    },
    options: {
      indexAxis: "y",
      locale: rtl ? "ar" : "en",
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { reverse: rtl, beginAtZero: true, max: data.max },
        y: { position: rtl ? "right" : "left" },
      },
      plugins: {
        legend: { rtl, textDirection: rtl ? "rtl" : "ltr" },
        tooltip: { rtl, textDirection: rtl ? "rtl" : "ltr" },
      },
    },
  });
  canvas.dataset.drawn = "1";
}
