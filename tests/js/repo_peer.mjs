// A real automerge-repo 2.x client (Repo + WebSocketClientAdapter from npm) talking to a
// Houqin server, signing in first as any client must. Usage:
//   node repo_peer.mjs create <http url> <user> <password>
//       reports a work order at site hq as <user> and comments on it, prints its URL,
//       keeps syncing until standard input closes
//   node repo_peer.mjs read <http url> <user> <password> <automerge url>
//       prints the document as JSON once it has arrived

import { ImmutableString } from "@automerge/automerge";
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
// Houqin's times are 64-bit integers, which this Automerge hands over as BigInt.
const plain = (doc) => JSON.parse(JSON.stringify(doc, (_, value) => (typeof value === "bigint" ? Number(value) : value)));

if (mode === "create") {
  // A work order as Houqin's schema has it: short values as immutable strings (a plain
  // JavaScript string is collaborative text, which Houqin keeps for long text only).
  const word = (value) => new ImmutableString(value);
  const now = Date.now();
  const handle = repo.create({
    type: word("work_order"),
    schema: 3,
    site: word("hq"),
    created_by: word(username),
    created_at: now,
    title: word("JS 客户端报修"),
    description: "门锁坏了",
    location: word("hq-b1"),
    category: word("other"),
    priority: word("normal"),
    events: { reported: { kind: word("reported"), user: word(username), at: now } },
    comments: {},
    parts: {},
  });
  handle.change((doc) => {
    doc.comments["from-js"] = { user: word(username), at: now, text: "已拍照" };
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
