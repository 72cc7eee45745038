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

// The organiser's check-in code: fetch a fresh code before the shown one
// expires and show it (QR picture, link, code, hint), so that a screen
// left at the site keeps working. The server says when to fetch the next
// one (refresh_in, in seconds), so the phone's clock does not matter.
// Without this script the page says to reload it.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("code");
  if (!box || !box.dataset.refresh || !window.fetch) return;
  var hint = document.getElementById("code-hint");
  var retry = 30;
  var due = 0, timer = 0;

  function schedule(seconds) {
    clearTimeout(timer);
    due = Date.now() + seconds * 1000;
    timer = setTimeout(refresh, seconds * 1000);
  }
  function show(c) {
    document.getElementById("checkin-qr").src = c.qr;
    document.getElementById("checkin-link").href = c.link;
    document.getElementById("checkin-url").textContent = c.link;
    document.getElementById("checkin-code").textContent = c.code;
    hint.textContent = c.hint;
    box.dataset.refreshed = String(parseInt(box.dataset.refreshed || "0", 10) + 1);
  }
  function refresh() {
    fetch(box.dataset.refresh, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (c) {
        show(c);
        schedule(c.refresh_in);
      })
      .catch(function () {
        hint.textContent = box.dataset.failed;
        schedule(retry);
      });
  }
  // A screen that slept (or a tab in the background, whose timers the
  // browser slows) fetches at once when it is looked at again.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && due && Date.now() >= due) refresh();
  });
  hint.textContent = box.dataset.auto;
  schedule(parseInt(box.dataset.refreshIn, 10) || retry);
});
