// Progressive enhancement only: every page works without this file.
// Buttons with data-confirm ask before they submit.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-confirm]");
  if (b && !window.confirm(b.getAttribute("data-confirm"))) {
    e.preventDefault();
  }
});
