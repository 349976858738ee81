// Loads an Automerge document saved by Houqin's Rust side, reports what it sees, edits
// it the way a JavaScript automerge-repo client would, and saves it for Rust to read.
//
// usage: node document_roundtrip.mjs <input.automerge> <output.automerge>

import * as Automerge from "@automerge/automerge";
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node document_roundtrip.mjs <input.automerge> <output.automerge>");
  process.exit(2);
}

let doc = Automerge.load(new Uint8Array(readFileSync(input)));
const seen = {
  type: String(doc.type),
  answers: Object.fromEntries(Object.entries(doc.answers).map(([key, value]) => [key, String(value)])),
  notes: String(doc.notes),
};
doc = Automerge.change(doc, (draft) => {
  // Automerge 3 stores a plain JS string as collaborative text; short values such as an
  // answer are scalars, as Houqin writes them.
  draft.answers["from-js"] = new Automerge.ImmutableString("pass");
  Automerge.splice(draft, ["notes"], 0, 0, "JS: ");
});
writeFileSync(output, Automerge.save(doc));
console.log(JSON.stringify(seen));
