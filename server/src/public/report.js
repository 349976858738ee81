(function () {
  "use strict";
  var say = JSON.parse(document.getElementById("messages").textContent);
  var form = document.getElementById("report");
  var fields = form.elements;
  var status = document.getElementById("status");
  var button = form.querySelector("button[type=submit]");
  var preview = document.getElementById("preview");
  var code = form.dataset.code;
  var KEPT = "houqin.public-reports";
  var photo = null;

  function kept() {
    try { return JSON.parse(localStorage.getItem(KEPT)) || []; } catch (e) { return []; }
  }
  // The reports sent from this phone, so a reporter finds their link again by scanning.
  function keep(track, title) {
    try {
      var list = kept().filter(function (report) { return report.track !== track; });
      list.unshift({ track: track, code: code, title: title, at: Date.now() });
      localStorage.setItem(KEPT, JSON.stringify(list.slice(0, 20)));
    } catch (e) { /* private browsing: the link on the page is all there is */ }
  }
  var mine = kept().filter(function (report) { return report.code === code; });
  if (mine.length) {
    var box = document.getElementById("mine");
    box.hidden = false;
    mine.forEach(function (report) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = report.track;
      link.textContent = report.title + " · " + new Date(report.at).toLocaleString();
      item.appendChild(link);
      box.querySelector("ul").appendChild(item);
    });
  }

  // A phone's photo is several megabytes: sent at most 1280 px across, as JPEG, in a
  // data URL (which older in-app browsers make where they have no canvas.toBlob).
  function shrink(file) {
    return new Promise(function (done, fail) {
      var image = new Image();
      image.onload = function () {
        var scale = Math.min(1, 1280 / Math.max(image.naturalWidth, image.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(image.src);
        var url = canvas.toDataURL("image/jpeg", 0.8);
        if (url.indexOf("data:image/jpeg;base64,") === 0) done(url); else fail();
      };
      image.onerror = fail;
      image.src = URL.createObjectURL(file);
    });
  }
  fields.photo.addEventListener("change", function () {
    photo = null;
    preview.hidden = true;
    var file = fields.photo.files[0];
    if (!file) return;
    status.textContent = say.shrinking;
    shrink(file).then(function (url) {
      photo = url;
      preview.src = url;
      preview.hidden = false;
      status.textContent = "";
    }, function () {
      fields.photo.value = "";
      status.textContent = say.photo_invalid;
    });
  });

  function show(id, track) {
    var section = document.getElementById(id);
    var url = section.querySelector("a.url");
    url.href = track;
    url.textContent = location.origin + track;
    section.querySelector("a.go").href = track;
    section.hidden = false;
    section.scrollIntoView();
  }
  function send(anyway) {
    if (!fields.what.value.trim()) { status.textContent = say.text_missing; fields.what.focus(); return; }
    var urgency = form.querySelector("input[name=urgency]:checked");
    if (!urgency) { status.textContent = document.querySelector("legend").textContent; return; }
    var report = {
      code: code,
      text: fields.what.value,
      urgency: urgency.value,
      name: fields.reporter.value,
      phone: fields.phone.value,
      website: fields.website.value,
      anyway: anyway,
      language: document.documentElement.lang
    };
    button.disabled = true;
    status.textContent = say.sending;
    if (photo) report.photo = photo.split(",")[1];
    Promise.resolve().then(function () {
      return fetch("/api/public/reports", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(report) });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        button.disabled = false;
        if (response.status === 201) {
          keep(body.track, report.text.trim().split("\n")[0].slice(0, 30));
          form.hidden = true;
          document.getElementById("duplicate").hidden = true;
          show("done", body.track);
        } else if (body.code === "already_reported") {
          status.textContent = "";
          show("duplicate", body.track);
        } else {
          status.textContent = say[body.code] || say.failed;
        }
      });
    }).catch(function () {
      button.disabled = false;
      status.textContent = say.offline;
    });
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); send(false); });
  document.getElementById("anyway").addEventListener("click", function () { send(true); });
})();
