// The automerge-repo 2.x reference server: a Repo with Node file storage and the
// WebSocket server adapter, from npm. Prints the port it listens on (loopback), serves
// until standard input closes.
//
// usage: node reference_server.mjs <storage directory>

import { Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";

const [directory] = process.argv.slice(2);
if (!directory) {
  console.error("usage: node reference_server.mjs <storage directory>");
  process.exit(2);
}
const sockets = new WebSocketServer({ host: "127.0.0.1", port: 0 });
const repo = new Repo({
  network: [new WebSocketServerAdapter(sockets)],
  storage: new NodeFSStorageAdapter(directory),
  peerId: `reference-server-${process.pid}`,
  // Like a sync server: never announce documents; clients ask for what they know.
  sharePolicy: async () => false,
});
sockets.on("listening", () => console.log(sockets.address().port));
process.stdin.resume();
process.stdin.on("end", async () => {
  await repo.shutdown();
  sockets.close();
  process.exit(0);
});
