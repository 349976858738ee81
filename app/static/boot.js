// Starts the app: shows the page's own sign-in form until the app's wasm has arrived
// (first visits), loads the wasm, offers the QR decoder to browsers without
// BarcodeDetector, and registers the service worker. A file of its own, not inline in
// index.html, so the Content-Security-Policy allows scripts from the server only.

// On a first visit (no service worker serves the app yet) the module may take seconds on
// a slow link: the page's form takes the user name and password meanwhile, in the
// reader's language as the app chooses it, and the app signs in with them when it starts
// (`pages::sign_in::take_shell_form`). Later visits start from the cache at once.
const shell = document.getElementById("shell");
if (shell && !navigator.serviceWorker?.controller) {
  const tag = (navigator.languages || [navigator.language]).map((tag) => tag.split(/[-_]/)[0].toLowerCase()).find((tag) => tag === "zh" || tag === "en");
  if (tag === "en") {
    document.documentElement.lang = "en";
    for (const text of shell.querySelectorAll("[data-en]")) text.textContent = text.dataset.en;
  }
  const form = shell.querySelector("form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.dataset.pressed = "";
    const status = form.querySelector("[role=status]");
    status.textContent = tag === "en" ? status.dataset.enPressed : status.dataset.zhPressed;
  });
  shell.hidden = false;
  performance.mark("houqin-shell-form");
}
// The app's module, or — when it cannot be fetched or started (the link dropped
// mid-download) — a plain word on the page's form instead of "loading" for ever.
const started = (async () => {
  const { default: init } = await import("{{script}}");
  await init({ module_or_path: "{{wasm}}" });
})();
started.catch((error) => {
  const status = document.querySelector("#shell [role=status]");
  if (status) status.textContent = document.documentElement.lang === "en" ? status.dataset.enFailed : status.dataset.zhFailed;
  console.error("Houqin did not start:", error);
});
// The QR decoder for browsers without BarcodeDetector, a module of its own that the
// app imports the first time it scans without one.
let qrDecoder;
window.houqinQrDecoder = () => {
  qrDecoder ??= import("{{qr_script}}").then(async (decoder) => {
    await decoder.default({ module_or_path: "{{qr_wasm}}" });
    return decoder.decode;
  });
  return qrDecoder;
};
await started;
// A new release installs in the background and waits; the app offers it
// ("houqin-update-ready") and, when accepted, the page reloads under the new worker,
// so an old shell never runs a new wasm.
if ("serviceWorker" in navigator) {
  let updating = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updating) location.reload();
  });
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((registration) => {
    const offer = () => {
      if (registration.waiting && navigator.serviceWorker.controller) window.dispatchEvent(new Event("houqin-update-ready"));
    };
    window.houqinApplyUpdate = () => {
      if (!registration.waiting) return;
      updating = true;
      registration.waiting.postMessage("skip-waiting");
    };
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      if (worker) worker.addEventListener("statechange", () => worker.state === "installed" && offer());
    });
    offer();
    const check = () => registration.update().catch(() => {});
    setInterval(check, 60 * 60 * 1000);
    window.addEventListener("online", check);
  }).catch((error) => console.warn("service worker:", error));
}
