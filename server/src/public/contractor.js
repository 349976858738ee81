(function () {
  "use strict";
  var say = JSON.parse(document.getElementById("messages").textContent);
  var status = document.getElementById("status");
  var address = "/api/contractor/" + location.pathname.split("/").pop();
  function send(step, button) {
    button.disabled = true;
    status.textContent = say.sending;
    fetch(address, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(step) })
      .then(function (response) {
        if (response.ok) { location.reload(); return; }
        return response.json().catch(function () { return {}; }).then(function (body) {
          button.disabled = false;
          status.textContent = say[body.code] || say.failed;
        });
      })
      .catch(function () { button.disabled = false; status.textContent = say.offline; });
  }
  var start = document.getElementById("start");
  if (start) {
    start.addEventListener("click", function () { send({ step: "started" }, start); });
  }
  var done = document.getElementById("done");
  if (done) {
    done.addEventListener("submit", function (event) {
      event.preventDefault();
      send({ step: "completed", notes: done.elements.notes.value }, done.querySelector("button"));
    });
  }
})();
