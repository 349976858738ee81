// Houqin's service worker: the app shell and wasm from the cache, so the app opens with
// no network after the first visit. `cargo xtask dist` fills in the placeholders.
//
// Each release has its own cache, filled completely at install. A new release waits
// until no tab runs the old one, so a page never mixes an old shell with a new wasm.

const VERSION = {{version}};
const PRECACHE = {{precache}};
const APP_ROUTES = {{app_routes}};
const CACHE = `houqin-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("houqin-shell-") && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

function isAppRoute(path) {
  const segments = path.split("/");
  return APP_ROUTES.some((pattern) => {
    if (pattern === "/" || path === "/") return pattern === path;
    const expected = pattern.split("/");
    return expected.length === segments.length
      && expected.every((segment, index) => segment.startsWith(":") ? segments[index] !== "" : segment === segments[index]);
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // A label's page asked for as the public sees it (`?public`) is the server's own.
  if (request.mode === "navigate" && isAppRoute(url.pathname) && !url.searchParams.has("public")) {
    // Every page is the same shell; the app's router draws the page.
    event.respondWith(caches.open(CACHE).then((cache) => cache.match("/")).then((shell) => shell || fetch(request)));
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((hit) => hit || fetch(request)));
  }
  // Everything else (the API, sync, blobs) goes to the network untouched.
});

// A notice pushed by the server (decrypted by the browser): shown, one per order (a newer
// one of the same order replaces it); tapping it opens the order in the app.
self.addEventListener("push", (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch {
    notice = { title: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(notice.title || "Houqin", {
    body: notice.body || "",
    tag: notice.tag,
    renotify: Boolean(notice.tag),
    icon: "/icon-192.png",
    badge: "/icon-192.png",
    data: { url: notice.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // The link may name the site's public address: the app opens its page here.
  const target = new URL(event.notification.data?.url || "/", self.location.origin);
  const path = isAppRoute(target.pathname) ? target.pathname : "/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (open) return open.focus().then((client) => (client || open).navigate(path));
    return self.clients.openWindow(path);
  }));
});
