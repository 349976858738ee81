// A real automerge-repo 2.x client (Repo + WebSocketClientAdapter from npm) talking to a
// Houqin server, signing in first as any client must. Usage:
//   node repo_peer.mjs create <http url> <user> <password>
//       creates a work order at site hq, prints its URL, keeps syncing until standard
//       input closes
//   node repo_peer.mjs read <http url> <user> <password> <automerge url>
//       prints the document as JSON once it has arrived

import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [mode, server, username, password, url] = process.argv.slice(2);

const login = await fetch(new URL("/api/login", server), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ username, password }),
});
if (!login.ok) {
  console.error(`sign-in failed: ${login.status} ${await login.text()}`);
  process.exit(1);
}
const { token } = await login.json();
const sync = new URL("/sync", server);
sync.protocol = "ws:";
sync.searchParams.set("token", token);

const repo = new Repo({ network: [new WebSocketClientAdapter(sync.href, 500)] });
const plain = (doc) => JSON.parse(JSON.stringify(doc));

if (mode === "create") {
  // Plain strings, as any automerge-repo client writes them.
  const handle = repo.create({ type: "work_order", site: "hq", title: "JS 客户端报修", answers: {} });
  handle.change((doc) => {
    doc.answers["from-js"] = "fail";
  });
  console.log(handle.url);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await repo.shutdown();
    process.exit(0);
  });
} else if (mode === "read") {
  const handle = await repo.find(url);
  console.log(JSON.stringify(plain(handle.doc())));
  await repo.shutdown();
  process.exit(0);
} else {
  console.error("usage: node repo_peer.mjs create|read <http url> <user> <password> [automerge url]");
  process.exit(2);
}
