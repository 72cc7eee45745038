// The report form's map: a tap marks the place (WGS84 into the hidden lat
// and lon fields); "use my location" asks the browser. Without JavaScript
// the form still works with an address only.
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  var lat = document.getElementById("r-lat");
  var lon = document.getElementById("r-lon");
  if (!el || !window.L || !lat || !lon) {
    return;
  }
  var start = lat.value && lon.value ? [Number(lat.value), Number(lon.value)] :
    [Number(el.getAttribute("data-lat")), Number(el.getAttribute("data-lon"))];
  var map = L.map(el).setView(start, 15);
  var marker = null;
  function mark(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3 }).addTo(map);
    }
  }
  if (lat.value && lon.value) {
    mark(L.latLng(start[0], start[1]));
  }
  map.on("click", function (e) { mark(e.latlng); });
  var me = document.getElementById("locate-me");
  if (me && navigator.geolocation) {
    me.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
        map.setView(ll, 17);
        mark(ll);
      });
    });
  } else if (me) {
    me.hidden = true;
  }
})();
