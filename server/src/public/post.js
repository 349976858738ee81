// What the public pages' forms share: the page's messages in its language, its status line,
// and `send`, which posts an answer to `address` and reloads once it is taken, else says why.
function houqinPoster(address) {
  "use strict";
  var say = JSON.parse(document.getElementById("messages").textContent);
  var status = document.getElementById("status");
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
  return { say: say, status: status, send: send };
}
