// The scorecard's charts, drawn with Apache ECharts: the communities'
// totals as bars, from the table's rows (their data-* attributes), and
// their totals over the street's periods as lines, from the trend API.
// The map shades the street's communities by total, the weakest darkest,
// with Leaflet and no tiles. The table stays the accessible, script-free
// copy of the numbers.
(function () {
  "use strict";
  var table = document.getElementById("card");
  var bars = document.getElementById("chart-card");
  var trend = document.getElementById("chart-trend");
  if (!table || !bars || !window.echarts) {
    return;
  }
  drawMap(table.tBodies[0].rows);
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  var locale = document.documentElement.lang === "en" ? "EN" : "ZH";
  function init(el) {
    el.style.width = "100%";
    el.style.height = Math.round(base * 20) + "px";
    var chart = window.echarts.init(el, null, { renderer: "canvas", locale: locale });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }
  var rows = table.tBodies[0].rows;
  var names = [], totals = [];
  for (var i = 0; i < rows.length; i++) {
    names.push(rows[i].dataset.name);
    totals.push(parseFloat(rows[i].dataset.total));
  }
  init(bars).setOption({
    animation: false,
    color: ["#0b57d0"],
    tooltip: { trigger: "axis", renderMode: "richText", confine: true },
    grid: { left: 8, right: 16, top: base, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0, hideOverlap: true } },
    yAxis: { type: "value", min: 0, max: 100 },
    series: [{ name: bars.dataset.total, type: "bar", data: totals }]
  });
  if (!trend || !window.fetch) {
    return;
  }
  fetch(trend.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (t) {
      if (!t) {
        return;
      }
      init(trend).setOption({
        animation: false,
        tooltip: { trigger: "axis", renderMode: "richText", confine: true },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 16, top: base * 2.5, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: t.periods },
        yAxis: { type: "value", min: 0, max: 100 },
        series: t.series.map(function (s) { return { name: s.name, type: "line", data: s.totals, connectNulls: false }; })
      });
    });
})();

function drawMap(rows) {
  "use strict";
  var el = document.getElementById("card-map");
  var status = document.getElementById("card-map-status");
  if (!el || !window.L || !window.fetch) {
    return;
  }
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  el.style.height = Math.round(base * 24) + "px";
  var cards = {};
  for (var i = 0; i < rows.length; i++) {
    cards[rows[i].dataset.code] = { name: rows[i].dataset.name, total: parseFloat(rows[i].dataset.total) || 0 };
  }
  var map = L.map(el, { zoomSnap: 0.25 });
  fetch(el.dataset.src, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) {
      throw new Error("HTTP " + r.status);
    }
    return r.json();
  }).then(function (fc) {
    var communities = (fc.features || []).filter(function (f) {
      return f.properties && cards[f.properties.code];
    });
    if (communities.length === 0) {
      map.setView([37.46, 121.44], 13);
      return;
    }
    var layer = L.geoJSON({ type: "FeatureCollection", features: communities }, {
      style: function (f) {
        var c = cards[f.properties.code];
        return { color: "#222", weight: 1, fillColor: "#b3261e", fillOpacity: 0.1 + 0.7 * (100 - c.total) / 100 };
      },
      onEachFeature: function (f, l) {
        var c = cards[f.properties.code];
        var span = document.createElement("span");
        span.textContent = c.name + " · " + el.dataset.legend + ": " + c.total;
        l.bindTooltip(span, { sticky: true });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  }).catch(function (e) {
    if (status) {
      status.textContent = String(e);
    }
  });
}
