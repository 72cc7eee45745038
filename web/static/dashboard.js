// The dashboard's charts, drawn with Apache ECharts from figures the page
// already holds: the three rates per row come from the table (its rows'
// data-* attributes), the reported/closed series from the KPI API (the
// chart's data-src). The table stays the accessible, script-free copy of
// the numbers. Nothing here needs inline script or inline style markup:
// sizes are set through the style object, tooltips are drawn on the canvas.
(function () {
  "use strict";
  var table = document.getElementById("kpis");
  var ratesEl = document.getElementById("chart-rates");
  var trendEl = document.getElementById("chart-trend");
  if (!table || !ratesEl || !trendEl || !window.echarts) {
    return;
  }
  var en = document.documentElement.lang === "en";
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  var font = Math.round(base * 0.8);
  var colours = ["#0b57d0", "#116329", "#b3261e", "#7b5800"];

  function percent(v) {
    return Math.round(parseFloat(v) * 1000) / 10;
  }
  function init(el) {
    el.style.width = "100%";
    el.style.height = Math.round(base * 20) + "px";
    return window.echarts.init(el, null, { renderer: "canvas", locale: en ? "EN" : "ZH" });
  }
  function common(names) {
    return {
      animation: false,
      color: colours,
      textStyle: { fontSize: font },
      // richText draws the tooltip on the canvas: no HTML, no style attributes.
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { top: 0, textStyle: { fontSize: font } },
      grid: { left: 8, right: 16, top: base * 2.5, bottom: 8, containLabel: true },
      xAxis: {
        type: "category", data: names,
        axisLabel: { fontSize: font, interval: 0, rotate: names.length > 6 ? 30 : 0, hideOverlap: true }
      }
    };
  }

  // The three rates of each row of the table.
  var names = [], response = [], resolution = [], satisfaction = [];
  Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
    names.push(tr.getAttribute("data-name") || "");
    response.push(percent(tr.getAttribute("data-response")));
    resolution.push(percent(tr.getAttribute("data-resolution")));
    satisfaction.push(percent(tr.getAttribute("data-satisfaction")));
  });
  var rates = init(ratesEl);
  var opt = common(names);
  opt.yAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: font } };
  opt.tooltip.valueFormatter = function (v) { return v + "%"; };
  opt.series = [
    { type: "bar", barMaxWidth: base * 3, name: ratesEl.getAttribute("data-response"), data: response },
    { type: "bar", barMaxWidth: base * 3, name: ratesEl.getAttribute("data-resolution"), data: resolution },
    { type: "bar", barMaxWidth: base * 3, name: ratesEl.getAttribute("data-satisfaction"), data: satisfaction }
  ];
  rates.setOption(opt);
  ratesEl.setAttribute("data-points", String(names.length));

  // Cases reported and closed per period, from the API.
  var trend = init(trendEl);
  fetch(trendEl.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.json();
    })
    .then(function (rep) {
      var rows = rep.rows || [];
      var o = common(rows.map(function (r) { return r.name; }));
      o.yAxis = { type: "value", minInterval: 1, axisLabel: { fontSize: font } };
      o.series = [
        { type: "line", name: trendEl.getAttribute("data-reported"), data: rows.map(function (r) { return r.reported; }) },
        { type: "line", name: trendEl.getAttribute("data-closed"), data: rows.map(function (r) { return r.closed; }) }
      ];
      trend.setOption(o);
      trendEl.setAttribute("data-points", String(rows.length));
    })
    .catch(function () {
      trend.dispose();
      trendEl.textContent = trendEl.getAttribute("data-failed");
      trendEl.style.height = "auto";
      trendEl.setAttribute("data-points", "failed");
    });

  window.addEventListener("resize", function () {
    rates.resize();
    if (!trend.isDisposed()) {
      trend.resize();
    }
  });
})();
