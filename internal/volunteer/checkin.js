// Check-in on the phone: fill the form with the phone's position (WGS84,
// as the browser gives it) so that the server can tell how far from the
// site the volunteer is. Without a position the buttons stay usable and
// the server says what is missing.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("checkin");
  if (!form || !navigator.geolocation) return;
  var status = document.getElementById("position-status");
  navigator.geolocation.getCurrentPosition(function (pos) {
    form.elements.lon.value = pos.coords.longitude.toFixed(6);
    form.elements.lat.value = pos.coords.latitude.toFixed(6);
    if (status) status.textContent = status.dataset.ok;
  }, function () {
    if (status) status.textContent = status.dataset.failed;
  }, { enableHighAccuracy: true, timeout: 15000 });
});
