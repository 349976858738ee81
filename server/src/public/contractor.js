(function () {
  "use strict";
  var poster = houqinPoster("/api/contractor/" + location.pathname.split("/").pop());
  var start = document.getElementById("start");
  if (start) {
    start.addEventListener("click", function () { poster.send({ step: "started" }, start); });
  }
  var done = document.getElementById("done");
  if (done) {
    done.addEventListener("submit", function (event) {
      event.preventDefault();
      poster.send({ step: "completed", notes: done.elements.notes.value }, done.querySelector("button"));
    });
  }
})();
