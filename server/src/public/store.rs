//! What the server keeps of public reports: tracking links, each order's reporter (their
//! address, for spam), and the addresses whose reports were spam; and contractors' links.
//!
//! A tracking link's token is never stored: its SHA-256 is the key, so a copy of the
//! database (a backup) opens no tracking page.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use shared::directory::SiteId;
use shared::protocol::DocumentId;

use crate::Storage;
use crate::kv;
use crate::storage::trees;

/// A tracking link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub document: DocumentId,
    pub site: SiteId,
    /// What the report's label is called (the place, or the asset and its place).
    pub place: String,
    /// The language the report was made in: the page's, unless the reader asks another.
    #[serde(default)]
    pub language: Option<shared::language::Language>,
    /// The reporter's own link may rate the repair or say it is not fixed; a link given
    /// to someone who reported the same fault again only follows it.
    pub may_answer: bool,
}

/// An order made from a public report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicOrder {
    pub site: SiteId,
    /// The Automerge actor (hex) its public changes are made under, bound to the public
    /// reporter.
    pub actor: String,
    /// The address it was sent from, as counted ([`crate::auth::counted_address`]).
    pub address: String,
    /// The label it was sent from.
    pub code: String,
    pub at: i64,
    /// Marked spam by a manager.
    #[serde(default)]
    pub spam: bool,
}

/// How long a spam report counts against its address.
pub const STRIKE_MEMORY_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

#[derive(Clone)]
pub struct PublicStore {
    tracks: kv::Tree,
    orders: kv::Tree,
    strikes: kv::Tree,
    contracted: kv::Tree,
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl PublicStore {
    pub fn open(storage: &Storage) -> anyhow::Result<PublicStore> {
        Ok(PublicStore {
            tracks: storage.tree(trees::PUBLIC_TRACKS)?,
            orders: storage.tree(trees::PUBLIC_ORDERS)?,
            strikes: storage.tree(trees::PUBLIC_STRIKES)?,
            contracted: storage.tree(trees::CONTRACTOR_LINKS)?,
        })
    }

    pub fn add_track(&self, token: &str, track: &Track) -> anyhow::Result<()> {
        self.tracks.insert(token_key(token), serde_json::to_vec(track)?).context("cannot keep a tracking link")?;
        Ok(())
    }

    pub fn track(&self, token: &str) -> anyhow::Result<Option<Track>> {
        let Some(value) = self.tracks.get(token_key(token))? else { return Ok(None) };
        Ok(Some(serde_json::from_slice(&value).context("a tracking link does not read")?))
    }

    pub fn add_contracted(&self, token: &str, link: &super::contractor::Contracted) -> anyhow::Result<()> {
        self.contracted.insert(token_key(token), serde_json::to_vec(link)?).context("cannot keep a contractor's link")?;
        Ok(())
    }

    pub fn contracted(&self, token: &str) -> anyhow::Result<Option<super::contractor::Contracted>> {
        let Some(value) = self.contracted.get(token_key(token))? else { return Ok(None) };
        Ok(Some(serde_json::from_slice(&value).context("a contractor's link does not read")?))
    }

    pub fn add_order(&self, document: &DocumentId, order: &PublicOrder) -> anyhow::Result<()> {
        self.orders.insert(document.as_bytes(), serde_json::to_vec(order)?).context("cannot keep a public report")?;
        Ok(())
    }

    pub fn order(&self, document: &DocumentId) -> anyhow::Result<Option<PublicOrder>> {
        let Some(value) = self.orders.get(document.as_bytes())? else { return Ok(None) };
        Ok(Some(serde_json::from_slice(&value).context("a public report's record does not read")?))
    }

    /// Marks the order spam and counts it against its address, once; `false` if it was
    /// marked already.
    pub fn mark_spam(&self, document: &DocumentId, now: i64) -> anyhow::Result<bool> {
        let Some(mut order) = self.order(document)? else { return Ok(false) };
        if order.spam {
            return Ok(false);
        }
        order.spam = true;
        self.add_order(document, &order)?;
        let mut strikes = self.strikes_of(&order.address, now)?;
        strikes.push(now);
        self.strikes.insert(order.address.as_bytes(), serde_json::to_vec(&strikes)?).context("cannot count a spam report")?;
        Ok(true)
    }

    /// When the address's reports marked spam in the last [`STRIKE_MEMORY_MILLIS`] were.
    pub fn strikes_of(&self, address: &str, now: i64) -> anyhow::Result<Vec<i64>> {
        let Some(value) = self.strikes.get(address.as_bytes())? else { return Ok(Vec::new()) };
        let strikes: Vec<i64> = serde_json::from_slice(&value).context("an address's spam count does not read")?;
        Ok(strikes.into_iter().filter(|at| now - at < STRIKE_MEMORY_MILLIS).collect())
    }
}
