// A real automerge-repo 2.x client (Repo + WebSocketClientAdapter from npm) talking to a
// Houqin server. Usage:
//   node repo_peer.mjs create <ws url>   creates a document, prints its URL, keeps syncing
//                                        until standard input closes
//   node repo_peer.mjs read <ws url> <automerge url>
//                                        prints the document as JSON once it has arrived

import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [mode, server, url] = process.argv.slice(2);
const repo = new Repo({ network: [new WebSocketClientAdapter(server, 500)] });
const plain = (doc) => JSON.parse(JSON.stringify(doc));

if (mode === "create") {
  const handle = repo.create({ type: "work_order", title: "JS 客户端报修", answers: {} });
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
  console.error("usage: node repo_peer.mjs create|read <ws url> [automerge url]");
  process.exit(2);
}
