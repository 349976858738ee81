// The npm automerge-repo 2.x client (Repo + WebSocketClientAdapter) as a benchmark client:
// the client a third party integrating with a sync server would use.
//
// usage: node bench_client.mjs push <ws url> <directory>
//            imports every file of <directory> (a saved document, named by its document
//            id) and syncs until the server says it has the heads of every one
//        node bench_client.mjs fetch <ws url> <directory> [in flight]
//            a fresh client finds every document named in <directory>, [in flight] (32)
//            `find()` calls at a time, and checks each arrived whole
//
// Prints one JSON line: wall and CPU milliseconds of the work (this process, from the
// socket opening to the last document), the messages received by type, their bytes.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as A from "@automerge/automerge";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [mode, url, directory, inFlightText] = process.argv.slice(2);
if (!["push", "fetch"].includes(mode) || !url || !directory) {
  console.error("usage: node bench_client.mjs push|fetch <ws url> <directory> [in flight]");
  process.exit(2);
}
const ids = readdirSync(directory).sort();
const inFlight = Number(inFlightText || 32);

const cpu = process.cpuUsage();
const started = performance.now();
const adapter = new WebSocketClientAdapter(url, 500);
const received = {};
let receivedBytes = 0;
adapter.on("message", (message) => {
  const key = message.type;
  received[key] = (received[key] || 0) + 1;
  receivedBytes += message.data ? message.data.length : 0;
});
const repo = new Repo({ network: [adapter] });

function sameHeads(ours, theirs) {
  return theirs && ours.length === theirs.length && ours.every((head) => theirs.includes(head));
}

if (mode === "push") {
  const waiting = new Map();
  const done = new Promise((resolve) => {
    repo.synchronizer.on("sync-state", ({ documentId, syncState }) => {
      const heads = waiting.get(documentId);
      if (heads && sameHeads(heads, syncState.theirHeads)) {
        waiting.delete(documentId);
        if (waiting.size === 0) resolve();
      }
    });
  });
  for (const id of ids) {
    const handle = repo.import(readFileSync(join(directory, id)), { docId: id });
    waiting.set(id, A.getHeads(handle.doc()));
  }
  await done;
} else {
  let next = 0;
  let empty = 0;
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++];
      const handle = await repo.find(`automerge:${id}`);
      if (A.getHeads(handle.doc()).length === 0) empty += 1;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (empty > 0) {
    console.error(`${empty} of ${ids.length} documents arrived empty`);
    process.exit(1);
  }
}

const wall = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    mode,
    documents: ids.length,
    wall_ms: Math.round(wall),
    cpu_ms: Math.round((used.user + used.system) / 1000),
    received,
    received_bytes: receivedBytes,
  }),
);
await repo.shutdown();
process.exit(0);
