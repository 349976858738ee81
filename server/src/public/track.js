(function () {
  "use strict";
  var say = JSON.parse(document.getElementById("messages").textContent);
  var status = document.getElementById("status");
  var address = "/api/public/track/" + location.pathname.split("/").pop();
  function send(answer, button) {
    button.disabled = true;
    status.textContent = say.sending;
    fetch(address, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(answer) })
      .then(function (response) {
        if (response.ok) { location.reload(); return; }
        return response.json().catch(function () { return {}; }).then(function (body) {
          button.disabled = false;
          status.textContent = say[body.code] || say.failed;
        });
      })
      .catch(function () { button.disabled = false; status.textContent = say.offline; });
  }
  var rate = document.getElementById("rate");
  rate.addEventListener("submit", function (event) {
    event.preventDefault();
    var stars = rate.querySelector("input[name=rating]:checked");
    if (!stars) { status.textContent = say.choose_stars; return; }
    send({ rating: Number(stars.value), comment: rate.elements.comment.value }, rate.querySelector("button"));
  });
  var notFixed = document.getElementById("not-fixed");
  notFixed.addEventListener("submit", function (event) {
    event.preventDefault();
    send({ not_fixed: true, comment: notFixed.elements.why.value }, notFixed.querySelector("button"));
  });
})();
