// The automerge-repo side of the wire-format interop test. Reads from standard input
// {documentId, rustIds: [id], rustFrames: [hex]} and prints JSON with what the JS library
// made of Houqin's ids and frames, plus frames and a URL of its own for Houqin to decode.

import { readFileSync } from "node:fs";
import {
  cbor,
  documentIdToBinary,
  generateAutomergeUrl,
  isValidAutomergeUrl,
  parseAutomergeUrl,
} from "@automerge/automerge-repo";

const input = JSON.parse(readFileSync(0, "utf8"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const fromHex = (text) => new Uint8Array(Buffer.from(text, "hex"));
const plain = (value) => {
  if (value instanceof Uint8Array) return { hex: hex(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value === undefined ? null : value;
};

const documentId = input.documentId;
const messages = [
  { type: "join", senderId: "js-peer", supportedProtocolVersions: ["1"], metadata: { storageId: undefined, isEphemeral: true } },
  { type: "peer", senderId: "js-server", targetId: "houqin", selectedProtocolVersion: "1", peerMetadata: { storageId: "js-storage", isEphemeral: false } },
  { type: "request", senderId: "js-peer", targetId: "houqin", documentId, data: new Uint8Array([0x42, 0, 1]) },
  { type: "sync", senderId: "js-peer", targetId: "houqin", documentId, data: new Uint8Array(300).fill(7) },
  { type: "doc-unavailable", senderId: "js-server", targetId: "houqin", documentId },
  { type: "ephemeral", senderId: "js-peer", targetId: "houqin", documentId, sessionId: "session-a", count: 3, data: cbor.encode({ cursor: 12 }) },
  { type: "error", message: "unsupported protocol version" },
];

const url = generateAutomergeUrl();
console.log(
  JSON.stringify({
    jsUrl: url,
    jsIdHex: hex(documentIdToBinary(parseAutomergeUrl(url).documentId)),
    rustIds: input.rustIds.map((id) => ({
      valid: isValidAutomergeUrl(`automerge:${id}`),
      hex: hex(documentIdToBinary(id)),
    })),
    decodedRustFrames: input.rustFrames.map((frame) => plain(cbor.decode(fromHex(frame)))),
    jsFrames: messages.map((message) => hex(cbor.encode(message))),
  }),
);
