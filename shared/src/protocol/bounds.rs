//! What a sync message from a peer is allowed to cost, checked before Automerge sees it.
//!
//! Automerge trusts the parameters of a message: a Bloom filter of `have` with no bits per
//! entry makes it divide by zero, one with 2^30 probes makes it allocate gigabytes, and a
//! compressed change or column is inflated whole, however far (a 1 MB message inflates to
//! gigabytes). [`check`] refuses such a message as malformed — only its sender's
//! connection is affected — and [`guarded`] turns any panic left in applying one into an
//! error, so it costs that peer its connection, never the hub.
//!
//! Bounds, per message:
//! - a Bloom filter has 1 to [`MAX_BITS_PER_ENTRY`] bits per entry and 1 to
//!   [`MAX_PROBES`] probes (Automerge writes 10 and 7);
//! - everything compressed in it — compressed changes, and the DEFLATE columns of document
//!   and bundle chunks — inflates to at most [`MAX_INFLATED`] bytes in all, measured by
//!   inflating into a counter that stops at the bound, before Automerge inflates it again;
//! - the frame limit of the transport bounds everything else (counts of hashes, changes
//!   and columns are read from bytes that must be there).
//!
//! What belongs upstream (the `automerge` crate): the Bloom filter's parameters checked in
//! `BloomFilter::parse`, and a limit on inflated size in `load_incremental` and sync.

use std::io::Read as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::sync;

/// Inflated bytes one message may carry: a phone's edits are kilobytes; a document pushed
/// whole for the first time rarely passes a few megabytes.
pub const MAX_INFLATED: u64 = 32 << 20;
/// Bits per entry a Bloom filter may use.
pub const MAX_BITS_PER_ENTRY: u64 = 64;
/// Probes a Bloom filter may ask for per hash.
pub const MAX_PROBES: u64 = 32;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;
/// The bit of a column's specification that says its data is DEFLATE-compressed.
const DEFLATE_BIT: u64 = 0b1000;

/// Why a message is refused before it is applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unbounded {
    #[error("a Bloom filter with {bits_per_entry} bits per entry and {probes} probes (1–{MAX_BITS_PER_ENTRY} and 1–{MAX_PROBES} allowed)")]
    Bloom { bits_per_entry: u64, probes: u64 },
    #[error("compressed data inflating past {MAX_INFLATED} bytes")]
    Inflated,
    #[error("a change chunk that does not parse: {0}")]
    Chunk(&'static str),
    #[error("applying it failed unexpectedly: {0}")]
    Panicked(String),
}

/// Checks what `message` would cost to apply (see the module's bounds).
pub fn check(message: &sync::Message) -> Result<(), Unbounded> {
    for have in &message.have {
        check_bloom(&have.bloom.to_bytes())?;
    }
    let mut budget = MAX_INFLATED;
    for chunks in message.changes.iter() {
        let mut rest = chunks;
        while !rest.is_empty() {
            rest = check_chunk(rest, &mut budget)?;
        }
    }
    Ok(())
}

/// Decodes a sync message and checks it; a panic in decoding is an error too.
pub fn decode(data: &[u8]) -> Result<sync::Message, String> {
    let message = guarded(|| sync::Message::decode(data))?.map_err(|error| error.to_string())?;
    check(&message).map_err(|error| error.to_string())?;
    Ok(message)
}

/// Runs `apply` (Automerge taking a peer's message), with a panic turned into an error.
/// What `apply` changed must be thrown away on error: it may be half done.
pub fn guarded<T>(apply: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(apply)).map_err(|panic| {
        let said = panic.downcast_ref::<&str>().map(|text| (*text).to_owned()).or_else(|| panic.downcast_ref::<String>().cloned());
        Unbounded::Panicked(said.unwrap_or_else(|| "no message".to_owned())).to_string()
    })
}

fn check_bloom(bytes: &[u8]) -> Result<(), Unbounded> {
    // Automerge writes nothing for an empty filter, and never probes one.
    if bytes.is_empty() {
        return Ok(());
    }
    let mut reader = Reader(bytes);
    let parsed = (|| Some((reader.uleb()?, reader.uleb()?, reader.uleb()?)))();
    let Some((_entries, bits_per_entry, probes)) = parsed else { return Err(Unbounded::Chunk("a Bloom filter cut short")) };
    if !(1..=MAX_BITS_PER_ENTRY).contains(&bits_per_entry) || !(1..=MAX_PROBES).contains(&probes) {
        return Err(Unbounded::Bloom { bits_per_entry, probes });
    }
    Ok(())
}

/// Checks the chunk at the start of `bytes`, taking what it inflates to from `budget`;
/// returns the bytes after it.
fn check_chunk<'a>(bytes: &'a [u8], budget: &mut u64) -> Result<&'a [u8], Unbounded> {
    let mut reader = Reader(bytes);
    let header = (|| {
        let magic = reader.take(4)?;
        reader.take(4)?;
        let kind = reader.take(1)?[0];
        let length = reader.uleb()?;
        Some((magic, kind, reader.take(usize::try_from(length).ok()?)?))
    })();
    let Some((magic, kind, data)) = header else { return Err(Unbounded::Chunk("a chunk cut short")) };
    if magic != MAGIC {
        return Err(Unbounded::Chunk("not a chunk"));
    }
    match kind {
        CHANGE => {}
        COMPRESSED_CHANGE => inflate(data, budget)?,
        DOCUMENT => {
            let mut body = Reader(data);
            let columns = (|| {
                body.list(|item| item.sized().map(drop))?;
                body.list(|item| item.take(32).map(drop))?;
                let change_columns = body.columns()?;
                let op_columns = body.columns()?;
                Some((change_columns, op_columns))
            })();
            let Some((change_columns, op_columns)) = columns else { return Err(Unbounded::Chunk("a document chunk cut short")) };
            body.inflate_columns(&change_columns, budget)?;
            body.inflate_columns(&op_columns, budget)?;
        }
        BUNDLE => {
            let mut body = Reader(data);
            let prefix = (|| {
                body.list(|item| item.take(32).map(drop))?;
                body.list(|item| item.sized().map(drop))?;
                Some(())
            })();
            prefix.ok_or(Unbounded::Chunk("a bundle cut short"))?;
            for _ in 0..2 {
                let columns = body.columns().ok_or(Unbounded::Chunk("a bundle cut short"))?;
                body.inflate_columns(&columns, budget)?;
            }
        }
        _ => return Err(Unbounded::Chunk("an unknown chunk type")),
    }
    Ok(reader.0)
}

/// Inflates `deflated` into a counter, taking its size from `budget`; stops (refusing)
/// once the budget is spent, so a bomb costs at most the budget's worth of work.
fn inflate(deflated: &[u8], budget: &mut u64) -> Result<(), Unbounded> {
    let mut decoder = flate2::bufread::DeflateDecoder::new(deflated).take(*budget + 1);
    let inflated =
        std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|_| Unbounded::Chunk("compressed data that does not inflate"))?;
    if inflated > *budget {
        return Err(Unbounded::Inflated);
    }
    *budget -= inflated;
    Ok(())
}

/// Reads the parts of Automerge's binary format these checks need.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        if self.0.len() < length {
            return None;
        }
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        Some(taken)
    }

    fn uleb(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A length, then that many bytes.
    fn sized(&mut self) -> Option<&'a [u8]> {
        let length = self.uleb()?;
        self.take(usize::try_from(length).ok()?)
    }

    /// A count, then that many items read by `item`.
    fn list(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        let count = self.uleb()?;
        for _ in 0..count {
            item(self)?;
        }
        Some(())
    }

    /// Column metadata: a count, then each column's specification and data length.
    fn columns(&mut self) -> Option<Vec<(u64, u64)>> {
        let count = self.uleb()?;
        // Each column takes at least two bytes, so a count past what is left is a lie.
        if count > self.0.len() as u64 / 2 {
            return None;
        }
        (0..count).map(|_| Some((self.uleb()?, self.uleb()?))).collect()
    }

    /// Takes the data of `columns` in turn, inflating those marked DEFLATE.
    fn inflate_columns(&mut self, columns: &[(u64, u64)], budget: &mut u64) -> Result<(), Unbounded> {
        for (specification, length) in columns {
            let data =
                usize::try_from(*length).ok().and_then(|length| self.take(length)).ok_or(Unbounded::Chunk("column data cut short"))?;
            if specification & DEFLATE_BIT != 0 {
                inflate(data, budget)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;
    use automerge::{AutoCommit, ROOT, sync::SyncDoc as _};

    use super::*;

    fn first_message(doc: &mut AutoCommit) -> sync::Message {
        let mut state = sync::State::new();
        doc.sync().generate_sync_message(&mut state).unwrap()
    }

    /// A message carrying all of `doc`, as a phone's first push would.
    fn pushing(doc: &mut AutoCommit) -> sync::Message {
        let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
        let _ = doc.sync().generate_sync_message(&mut ours);
        let asked = AutoCommit::new().sync().generate_sync_message(&mut theirs).unwrap();
        doc.sync().receive_sync_message(&mut ours, asked).unwrap();
        doc.sync().generate_sync_message(&mut ours).unwrap()
    }

    fn big_document(bytes: usize) -> AutoCommit {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "text", automerge::ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"安全巡检 ".repeat(bytes / 13 + 1)).unwrap();
        doc.put(ROOT, "note", "a".repeat(bytes)).unwrap();
        doc.commit();
        doc
    }

    #[test]
    fn ordinary_messages_pass_whole() {
        let mut doc = big_document(200_000);
        let first = first_message(&mut doc);
        assert_eq!(check(&first), Ok(()));
        let push = pushing(&mut doc);
        assert!(!push.changes.is_empty());
        assert_eq!(check(&push), Ok(()));
        // And they survive the round trip through bytes.
        assert!(decode(&push.encode()).is_ok());
    }

    /// The filter Automerge would divide by zero on, and one it would allocate for forever.
    #[test]
    fn bloom_filters_with_impossible_parameters_are_refused() {
        let mut doc = big_document(10);
        let mut message = first_message(&mut doc);
        let mut bloom = Vec::new();
        for value in [3u8, 0, 7] {
            bloom.push(value);
        }
        bloom.extend([0xff; 10]);
        message.have = vec![sync::Have { last_sync: Vec::new(), bloom: sync::BloomFilter::try_from(bloom.as_slice()).unwrap() }];
        assert_eq!(check(&message), Err(Unbounded::Bloom { bits_per_entry: 0, probes: 7 }));
        // 2^30 probes: a four-gigabyte list of them.
        let mut bloom = vec![1, 10];
        bloom.extend([0x80, 0x80, 0x80, 0x80, 0x04]);
        bloom.extend([0xff; 2]);
        message.have = vec![sync::Have { last_sync: Vec::new(), bloom: sync::BloomFilter::try_from(bloom.as_slice()).unwrap() }];
        assert_eq!(check(&message), Err(Unbounded::Bloom { bits_per_entry: 10, probes: 1 << 30 }));
    }

    #[test]
    fn compressed_data_that_inflates_too_far_is_refused_before_automerge_inflates_it() {
        // 64 MiB of one byte deflates to about 64 KiB.
        let mut deflated = Vec::new();
        let mut encoder = flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::best());
        std::io::copy(&mut std::io::repeat(0).take(64 << 20), &mut encoder).unwrap();
        encoder.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(COMPRESSED_CHANGE);
        let mut length = deflated.len() as u64;
        loop {
            let byte = (length & 0x7f) as u8;
            length >>= 7;
            chunk.push(if length == 0 { byte } else { byte | 0x80 });
            if length == 0 {
                break;
            }
        }
        chunk.extend(&deflated);
        let mut message = first_message(&mut big_document(10));
        message.changes = vec![chunk].into();
        assert_eq!(check(&message), Err(Unbounded::Inflated));
    }

    /// A saved document and a bundle compress their large columns: each is read through,
    /// its columns counted as inflated.
    #[test]
    fn document_and_bundle_chunks_are_counted_column_by_column() {
        let mut doc = big_document(200_000);
        let saved = doc.save();
        let heads = doc.get_heads();
        let bundle = doc.bundle(heads).unwrap();
        for (what, bytes) in [("document", saved.as_slice()), ("bundle", bundle.bytes())] {
            assert!(bytes.len() < 100_000, "{what}: compressed columns, {} bytes", bytes.len());
            let mut budget = MAX_INFLATED;
            assert_eq!(check_chunk(bytes, &mut budget).map(<[u8]>::len), Ok(0), "{what}");
            assert!(MAX_INFLATED - budget > 200_000, "{what}: {} bytes inflated", MAX_INFLATED - budget);
            let mut small = 100_000;
            assert_eq!(check_chunk(bytes, &mut small), Err(Unbounded::Inflated), "{what}");
        }
    }

    #[test]
    fn bytes_that_are_not_chunks_are_refused() {
        let mut message = first_message(&mut big_document(10));
        for bad in
            [vec![1, 2, 3], MAGIC.to_vec(), [&MAGIC[..], &[0; 4], &[9, 0]].concat(), [&MAGIC[..], &[0; 4], &[DOCUMENT, 50, 1]].concat()]
        {
            message.changes = vec![bad.clone()].into();
            assert!(matches!(check(&message), Err(Unbounded::Chunk(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_panic_while_applying_is_an_error() {
        let said = guarded(|| -> u32 { panic!("attempt to calculate the remainder with a divisor of zero") });
        assert_eq!(said, Err("applying it failed unexpectedly: attempt to calculate the remainder with a divisor of zero".to_owned()));
        assert_eq!(guarded(|| 7), Ok(7));
    }
}
