// The gap report's chart, drawn with Apache ECharts from the table's rows
// (their data-* attributes): places per 1,000 residents and per 1,000
// older residents as bars, unmet needs as a line on a second axis. The
// table stays the accessible, script-free copy of the numbers. The map
// draws the street's communities shaded by places per 1,000 older
// residents (darker is better served) and the facilities as points, with
// Leaflet and no tiles, so it works on a closed network.
(function () {
  "use strict";
  var table = document.getElementById("gaps");
  var el = document.getElementById("chart-gaps");
  if (!table || !el || !window.echarts) {
    return;
  }
  var rows = table.tBodies[0].rows;
  var names = [], per = [], older = [], unmet = [];
  for (var i = 0; i < rows.length; i++) {
    names.push(rows[i].dataset.name);
    per.push(parseFloat(rows[i].dataset.per1000));
    older.push(parseFloat(rows[i].dataset.older));
    unmet.push(parseInt(rows[i].dataset.unmet, 10));
  }
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  el.style.width = "100%";
  el.style.height = Math.round(base * 22) + "px";
  var chart = window.echarts.init(el, null, { renderer: "canvas", locale: document.documentElement.lang === "en" ? "EN" : "ZH" });
  chart.setOption({
    animation: false,
    color: ["#0b57d0", "#116329", "#b3261e"],
    tooltip: { trigger: "axis", renderMode: "richText", confine: true },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: base * 2.5, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0, hideOverlap: true } },
    yAxis: [{ type: "value" }, { type: "value", minInterval: 1 }],
    series: [
      { name: el.dataset.per1000, type: "bar", data: per },
      { name: el.dataset.older, type: "bar", data: older },
      { name: el.dataset.unmet, type: "line", yAxisIndex: 1, data: unmet }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
  drawMap(rows);
})();

function drawMap(rows) {
  "use strict";
  var el = document.getElementById("gaps-map");
  var status = document.getElementById("gaps-map-status");
  if (!el || !window.L) {
    return;
  }
  var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  el.style.height = Math.round(base * 24) + "px";
  var served = {}, max = 0;
  for (var i = 0; i < rows.length; i++) {
    var v = parseFloat(rows[i].dataset.older) || 0;
    served[rows[i].dataset.code] = { name: rows[i].dataset.name, v: v };
    max = Math.max(max, v);
  }
  var map = L.map(el, { zoomSnap: 0.25 });
  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.json();
    });
  }
  get(el.dataset.src).then(function (fc) {
    var communities = (fc.features || []).filter(function (f) {
      return f.properties && served[f.properties.code];
    });
    if (communities.length === 0) {
      map.setView([37.46, 121.44], 13);
      return;
    }
    var layer = L.geoJSON({ type: "FeatureCollection", features: communities }, {
      style: function (f) {
        var s = served[f.properties.code];
        return { color: "#222", weight: 1, fillColor: "#0b57d0", fillOpacity: max > 0 ? 0.1 + 0.7 * s.v / max : 0.1 };
      },
      onEachFeature: function (f, l) {
        var s = served[f.properties.code];
        var span = document.createElement("span");
        span.textContent = s.name + " · " + el.dataset.legend + ": " + s.v;
        l.bindTooltip(span, { sticky: true });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [12, 12] });
    return get(el.dataset.facilities).then(function (page) {
      (page.items || []).forEach(function (f) {
        if (!f.location) {
          return;
        }
        var span = document.createElement("span");
        span.textContent = f.name + " (" + f.capacity + ")";
        L.circleMarker([f.location.lat, f.location.lon], { radius: 6, color: "#b3261e", weight: 2 }).bindTooltip(span).addTo(map);
      });
    });
  }).catch(function (e) {
    if (status) {
      status.textContent = String(e);
    }
  });
}
