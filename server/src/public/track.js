(function () {
  "use strict";
  var poster = houqinPoster("/api/public/track/" + location.pathname.split("/").pop());
  var rate = document.getElementById("rate");
  rate.addEventListener("submit", function (event) {
    event.preventDefault();
    var stars = rate.querySelector("input[name=rating]:checked");
    if (!stars) { poster.status.textContent = poster.say.choose_stars; return; }
    poster.send({ rating: Number(stars.value), comment: rate.elements.comment.value }, rate.querySelector("button"));
  });
  var notFixed = document.getElementById("not-fixed");
  notFixed.addEventListener("submit", function (event) {
    event.preventDefault();
    poster.send({ not_fixed: true, comment: notFixed.elements.why.value }, notFixed.querySelector("button"));
  });
})();
