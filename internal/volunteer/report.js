// The volunteer report's charts, drawn with Apache ECharts from the tables
// on the page: each chart names its table (data-table), whose rows carry
// a label and a value (data-label, data-value). The tables stay the
// script-free, screen-reader copy of the same numbers. Nothing here needs
// inline script or inline style markup: sizes are set through the style
// object, and tooltips are drawn on the canvas.
(function () {
  "use strict";
  var box = document.getElementById("report-charts");
  if (!box || !window.echarts) return;
  var en = document.documentElement.lang === "en";
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  var font = Math.round(base * 0.8);
  var charts = [];

  function rows(id) {
    var table = document.getElementById(id);
    var labels = [], values = [];
    if (table) {
      Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
        labels.push(tr.getAttribute("data-label") || "");
        values.push(parseFloat(tr.getAttribute("data-value")) || 0);
      });
    }
    return { labels: labels, values: values };
  }

  // option is the chart of one series: a line, columns, or bars across
  // (hbar, for long names such as communities).
  function option(kind, name, d) {
    var across = kind === "hbar";
    var cat = { type: "category", data: d.labels, axisLabel: { fontSize: font, hideOverlap: true } };
    var val = { type: "value", minInterval: 1, axisLabel: { fontSize: font } };
    if (across) {
      cat.inverse = true; // the table's first row on top
    } else {
      cat.axisLabel.rotate = d.labels.length > 6 ? 30 : 0;
    }
    return {
      animation: false,
      color: ["#0b57d0"],
      textStyle: { fontSize: font },
      // richText draws the tooltip on the canvas: no HTML, no style attributes.
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      grid: { left: 8, right: 24, top: base, bottom: 8, containLabel: true },
      xAxis: across ? val : cat,
      yAxis: across ? cat : val,
      series: [{ type: kind === "line" ? "line" : "bar", name: name, data: d.values, barMaxWidth: base * 2 }]
    };
  }

  Array.prototype.forEach.call(box.querySelectorAll(".chart"), function (el) {
    var d = rows(el.getAttribute("data-table"));
    var kind = el.getAttribute("data-kind");
    var lines = kind === "hbar" ? Math.max(d.labels.length, 4) * 1.8 + 3 : 20;
    el.style.width = "100%";
    el.style.height = Math.round(base * Math.min(lines, 40)) + "px";
    var chart = window.echarts.init(el, null, { renderer: "canvas", locale: en ? "EN" : "ZH" });
    var caption = el.parentNode.querySelector("figcaption");
    chart.setOption(option(kind, caption ? caption.textContent : "", d));
    el.setAttribute("data-points", String(d.labels.length));
    charts.push(chart);
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
