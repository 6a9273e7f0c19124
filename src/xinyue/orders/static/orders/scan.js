// Barcode scanners type the code and press Enter. On the ship form, Enter in a scan field moves
// to the next field (the next empty barcode, then the carrier, the tracking number, the button)
// instead of submitting a half-filled parcel; the button itself submits.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("ship-form");
    if (!form) return;
    var order = Array.prototype.slice.call(
      form.querySelectorAll("input[data-scan], select, button.primary"));
    var firstEmpty = order.filter(function (el) {
      return el.matches("input[data-scan]") && !el.value;
    })[0];
    var errored = form.querySelector(".error");
    if (errored && errored.previousElementSibling && errored.previousElementSibling.focus) {
      errored.previousElementSibling.focus();
    } else if (firstEmpty) {
      firstEmpty.focus();
    }
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || !target.matches("input[data-scan], select")) return;
      event.preventDefault();
      var i = order.indexOf(target);
      var next = order.slice(i + 1).filter(function (el) {
        return !el.matches("input[data-scan]") || !el.value || el.name === "tracking_number";
      })[0];
      if (next) next.focus();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
