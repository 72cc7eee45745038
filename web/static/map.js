// The area map: draws the GeoJSON of an area and its grids with Leaflet.
// Tiles are optional (data-tiles); without them the outlines stand on a plain
// background, which works on a closed network. Names are set as text, never
// as HTML.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) {
    return;
  }
  var status = document.getElementById("map-status");
  function say(msg) {
    if (status) {
      status.textContent = msg;
    }
  }
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  function colour(code) {
    var h = 0;
    for (var i = 0; i < code.length; i++) {
      h = (h * 31 + code.charCodeAt(i)) >>> 0;
    }
    return palette[h % palette.length];
  }
  function style(f) {
    var p = f.properties || {};
    if (p.level !== "grid") {
      return { color: "#333", weight: 2, fill: false };
    }
    return {
      color: "#222", weight: 1, fillColor: colour(p.code || ""), fillOpacity: 0.45,
      dashArray: p.kind === "dedicated" ? "4 3" : null
    };
  }
  function label(p) {
    var span = document.createElement("span");
    var kind = p.kind ? el.getAttribute("data-kind-" + p.kind) : "";
    span.textContent = (p.name || "") + " " + (p.code || "") + (kind ? " · " + kind : "");
    return span;
  }
  var map = L.map(el, { zoomSnap: 0.25 });
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
  }
  fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.json();
    })
    .then(function (fc) {
      if (!fc.features || fc.features.length === 0) {
        map.setView([37.46, 121.44], 12);
        say(el.getAttribute("data-empty"));
        return;
      }
      var layer = L.geoJSON(fc, {
        style: style,
        onEachFeature: function (f, l) {
          l.bindTooltip(label(f.properties || {}), { sticky: true });
          l.on("click", function () {
            window.location.href = "/areas/" + encodeURIComponent(f.properties.code);
          });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), { padding: [12, 12] });
      el.setAttribute("data-features", String(fc.features.length));
    })
    .catch(function () {
      say(el.getAttribute("data-failed"));
    });
})();
