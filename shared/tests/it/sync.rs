//! The sync protocol's two roles over a simulated network: a virtual clock, a seeded
//! random number generator, frames delayed and connections dropped at random, storage
//! that is slow to confirm writes. Many random schedules; each must end with every
//! replica identical, every edit present, and everything a client saw acknowledged
//! already durable.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::{ActorId, AutoCommit, ChangeHash};
use proptest::prelude::*;
use shared::directory::{SiteId, Username};
use shared::document::work_order::{Category, NewWorkOrder, Priority, WorkOrder};
use shared::document::{Edit, EntryId};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, ClientEvent, SyncStatus, Transmit};
use shared::protocol::message::PeerId;
use shared::protocol::server::{ConnectionId, Decision, Effect, PersistToken, Server, ServerConfig};
use shared::time::Timestamp;

/// xorshift64*: small, seeded, good enough to pick schedules.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

enum Destination {
    Server(ConnectionId),
    Client(usize),
}

/// A frame on its way; frames of one connection arrive in order (it is TCP underneath).
struct Packet {
    deliver_at: i64,
    connection: ConnectionId,
    destination: Destination,
    frame: Vec<u8>,
}

struct Phone {
    client: Client,
    connection: Option<ConnectionId>,
    /// Off the network (a basement) until this time.
    offline_until: i64,
}

struct World {
    random: Random,
    now: i64,
    server: Server,
    phones: Vec<Phone>,
    packets: Vec<Packet>,
    /// Durable storage: chunks per document, only what the server was told is durable.
    durable: BTreeMap<DocumentId, Vec<Vec<u8>>>,
    /// Persists written but not yet confirmed: (confirm at, document, chunk, token).
    writing: VecDeque<(i64, DocumentId, Vec<u8>, PersistToken)>,
    next_connection: u64,
    /// The time each connection's last frame arrives, to keep them in order.
    last_delivery: BTreeMap<(u64, bool), i64>,
    trace: Vec<String>,
}

impl World {
    fn durable_doc(&self, document: &DocumentId) -> Option<AutoCommit> {
        let chunks = self.durable.get(document)?;
        let mut doc = AutoCommit::new();
        for chunk in chunks {
            doc.load_incremental(chunk).unwrap();
        }
        Some(doc)
    }

    fn send(&mut self, connection: ConnectionId, destination: Destination, frame: Vec<u8>) {
        let to_server = matches!(destination, Destination::Server(_));
        let earliest = self.last_delivery.get(&(connection.0, to_server)).copied().unwrap_or(self.now);
        let deliver_at = earliest.max(self.now) + 1 + self.random.below(40) as i64;
        self.last_delivery.insert((connection.0, to_server), deliver_at);
        self.packets.push(Packet { deliver_at, connection, destination, frame });
    }

    fn disconnect(&mut self, phone: usize) {
        if let Some(connection) = self.phones[phone].connection.take() {
            self.server.handle_disconnected(connection);
            self.packets.retain(|packet| packet.connection != connection);
            let random = self.random.next();
            self.phones[phone].client.handle_disconnected(Timestamp::from_millis(self.now), random);
        }
    }

    /// Carries out everything the roles asked for, repeatedly, until nothing is left.
    fn settle(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(effect) = self.server.poll_effect() {
                progressed = true;
                match effect {
                    Effect::Send { connection, frame } => {
                        if let Some(phone) = self.phones.iter().position(|phone| phone.connection == Some(connection)) {
                            self.send(connection, Destination::Client(phone), frame);
                        }
                    }
                    Effect::Close { connection, .. } => {
                        if let Some(phone) = self.phones.iter().position(|phone| phone.connection == Some(connection)) {
                            self.disconnect(phone);
                        }
                    }
                    Effect::Load { document } => {
                        let stored = self.durable_doc(&document);
                        self.server.handle_loaded(document, stored);
                    }
                    Effect::Authorize(request) => self.server.handle_decision(request.ticket, Decision::Allow),
                    Effect::Persist { document, chunk, token } => {
                        // Storage confirms in the order it was asked to write.
                        let earliest = self.writing.back().map_or(self.now, |write| write.0);
                        let confirm_at = earliest.max(self.now) + self.random.below(30) as i64;
                        self.writing.push_back((confirm_at, document, chunk, token));
                    }
                    // The host makes no changes of its own here.
                    Effect::Changed { .. } => {}
                }
            }
            for index in 0..self.phones.len() {
                while let Some(event) = self.phones[index].client.poll_event() {
                    progressed = true;
                    match event {
                        ClientEvent::ConnectWanted => {
                            if self.now >= self.phones[index].offline_until {
                                self.next_connection += 1;
                                let connection = ConnectionId(self.next_connection);
                                self.phones[index].connection = Some(connection);
                                self.server.handle_connected(connection);
                                self.phones[index].client.handle_connected(Timestamp::from_millis(self.now));
                            } else {
                                let random = self.random.next();
                                self.phones[index].client.handle_disconnected(Timestamp::from_millis(self.now), random);
                            }
                        }
                        ClientEvent::SyncStatusChanged(document, SyncStatus::Synced) => {
                            // Whatever a phone is told the server has, the server's disk has.
                            let durable = self.durable_doc(&document).unwrap_or_default();
                            let mut heads = self.phones[index].client.document(&document).unwrap().clone().get_heads();
                            heads.retain(|head| durable.clone().get_change_by_hash(head).is_none());
                            assert!(heads.is_empty(), "phone {index} was told the server has changes that are not durable: {heads:?}");
                        }
                        ClientEvent::ServerError(error) => panic!("phone {index} got an error: {error}"),
                        _ => {}
                    }
                }
                while let Some(transmit) = self.phones[index].client.poll_transmit() {
                    progressed = true;
                    match (transmit, self.phones[index].connection) {
                        (Transmit::Frame(frame), Some(connection)) => self.send(connection, Destination::Server(connection), frame),
                        (Transmit::Close, Some(_)) => self.disconnect(index),
                        _ => {}
                    }
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// Advances the clock to the next thing that happens and makes it happen.
    fn step(&mut self) -> bool {
        self.settle();
        let next_packet = self.packets.iter().map(|packet| packet.deliver_at).min();
        let next_write = self.writing.front().map(|write| write.0);
        let next_wakeup = self
            .phones
            .iter()
            .filter(|phone| phone.connection.is_none())
            .filter_map(|phone| phone.client.next_wakeup())
            .map(|at| at.as_millis().max(self.now))
            .min();
        let Some(next) = [next_packet, next_write, next_wakeup].into_iter().flatten().min() else { return false };
        self.now = self.now.max(next);
        if let Some(index) = self.packets.iter().position(|packet| packet.deliver_at <= self.now) {
            let packet = self.packets.remove(index);
            let summary = match shared::protocol::decode(&packet.frame, 1 << 20) {
                Ok(shared::protocol::Message::Sync { data, .. } | shared::protocol::Message::Request { data, .. }) => {
                    let message = automerge::sync::Message::decode(&data).unwrap();
                    format!(
                        "sync heads={:?} changes={}",
                        message.heads.iter().map(|h| h.to_string()[..6].to_owned()).collect::<Vec<_>>(),
                        message.changes.len()
                    )
                }
                Ok(other) => other.type_name().to_owned(),
                Err(error) => error.to_string(),
            };
            let direction = match packet.destination {
                Destination::Server(_) => "->server",
                Destination::Client(_) => "->phone",
            };
            self.trace.push(format!("t={} conn={} {direction} {summary}", self.now, packet.connection.0));
            match packet.destination {
                Destination::Server(connection) => self.server.handle_frame(connection, &packet.frame),
                Destination::Client(phone) => self.phones[phone].client.handle_frame(Timestamp::from_millis(self.now), &packet.frame),
            }
        } else if self.writing.front().is_some_and(|write| write.0 <= self.now) {
            // Storage confirms in order.
            let (_, document, chunk, token) = self.writing.pop_front().unwrap();
            self.durable.entry(document).or_default().push(chunk);
            self.trace.push(format!("t={} persisted {token:?}", self.now));
            self.server.handle_persisted(document, token);
        } else {
            for phone in &mut self.phones {
                if phone.connection.is_none() {
                    phone.client.handle_timeout(Timestamp::from_millis(self.now));
                }
            }
        }
        // Events are looked at before anything else happens on the phones.
        self.settle();
        true
    }
}

fn heads(doc: &AutoCommit) -> Vec<ChangeHash> {
    let mut heads = doc.clone().get_heads();
    heads.sort();
    heads
}

fn run(seed: u64, steps: usize) {
    let mut random = Random(seed | 1);
    let document = DocumentId::from_random(random.next().to_le_bytes().repeat(2).try_into().unwrap());
    let edit = |user: &str, at: i64| Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at));
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "电梯异响".into(),
        description: "3号电梯运行时有异响".into(),
        location: "hq-b3".into(),
        asset: Some("lift-3".into()),
        category: Category::Building,
        priority: Priority::High,
        due_at: None,
        source: None,
    };
    let original = WorkOrder::report(ActorId::from([0xee; 16]), &new, &EntryId::parse("reported").unwrap(), &edit("inspector", 0)).unwrap();
    let users = ["tech", "manager", "inspector"];
    let phones = (0..3)
        .map(|index| {
            let mut client = Client::new(ClientConfig::new(PeerId(format!("phone-{index}"))), Timestamp::from_millis(0));
            // Every phone got the order once; the first never pushed it, so only phones have it.
            client.add_document(document, original.doc().clone().with_actor(ActorId::from([index as u8 + 1; 16])));
            Phone { client, connection: None, offline_until: 0 }
        })
        .collect();
    let server = Server::new(ServerConfig {
        peer_id: PeerId("server".into()),
        storage_id: Some("server-storage".into()),
        max_frame: 1 << 20,
        max_documents_in_flight: 64,
    });
    let mut world = World {
        random,
        now: 0,
        server,
        phones,
        packets: Vec::new(),
        durable: BTreeMap::new(),
        writing: VecDeque::new(),
        next_connection: 0,
        last_delivery: BTreeMap::new(),
        trace: Vec::new(),
    };

    let mut written = BTreeSet::new();
    for step in 0..steps {
        let phone = world.random.below(3) as usize;
        world.settle();
        match world.random.below(10) {
            0..=4 => {
                // An edit, online or not.
                let id = format!("c{phone}-{step}");
                let doc = world.phones[phone].client.document_mut(&document).unwrap();
                let mut order = WorkOrder::from_doc(std::mem::take(doc)).unwrap();
                order.add_comment(&EntryId::parse(&id).unwrap(), "检查了导轨", None, &edit(users[phone], world.now)).unwrap();
                *world.phones[phone].client.document_mut(&document).unwrap() = order.into_doc();
                world.phones[phone].client.handle_local_change(&document);
                written.insert(id);
            }
            5 if world.random.chance(60) => {
                // Into a dead zone for a while.
                world.phones[phone].offline_until = world.now + world.random.below(400) as i64;
                world.disconnect(phone);
            }
            _ => {
                for _ in 0..world.random.below(20) {
                    if !world.step() {
                        break;
                    }
                }
            }
        }
    }
    // Everyone comes back into coverage; run until quiet.
    for phone in &mut world.phones {
        phone.offline_until = 0;
        phone.client.handle_network_available(Timestamp::from_millis(world.now));
    }
    let mut guard = 0;
    while world.step() {
        guard += 1;
        assert!(guard < 200_000, "the simulation did not settle");
        if world.packets.is_empty() && world.writing.is_empty() && world.phones.iter().all(|phone| phone.client.is_online()) {
            world.settle();
            if world.packets.is_empty() && world.writing.is_empty() {
                break;
            }
        }
    }

    let server_doc = world.server.document(&document).expect("the server loaded the document").clone();
    let durable = world.durable_doc(&document).expect("the document reached the disk");
    assert_eq!(heads(&durable), heads(&server_doc), "the disk lags the server after settling");
    for (index, phone) in world.phones.iter().enumerate() {
        let doc = phone.client.document(&document).unwrap();
        assert_eq!(heads(doc), heads(&server_doc), "phone {index} differs from the server");
        assert_eq!(
            phone.client.status(&document),
            Some(SyncStatus::Synced),
            "{}\nphone {index}: heads {:?}, server heads as told {:?}, online {}",
            world.trace[world.trace.len().saturating_sub(40)..].join("\n"),
            heads(doc),
            phone.client.server_heads(&document),
            phone.client.is_online()
        );
    }
    let comments: BTreeSet<String> =
        WorkOrder::from_doc(server_doc).unwrap().read().unwrap().comments.iter().map(|comment| comment.id.to_string()).collect();
    assert_eq!(comments, written, "an edit was lost");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn three_phones_and_a_server_converge_over_a_flaky_network(seed in any::<u64>()) {
        run(seed, 80);
    }
}

#[test]
fn a_quiet_start_converges_too() {
    run(1, 5);
}

/// Frames that are almost right: a valid message with some bytes changed, cut or added.
fn mangled_frame() -> impl Strategy<Value = Vec<u8>> {
    use shared::protocol::message::{Message, encode};
    let document = DocumentId::from_random([9; 16]);
    let valid = vec![
        encode(&Message::Join { sender: PeerId("x".into()), supported_versions: vec!["1".into()], metadata: None }),
        encode(&Message::Sync { sender: PeerId("x".into()), target: PeerId("server".into()), document, data: vec![0x42, 0, 0, 0] }),
        encode(&Message::Request { sender: PeerId("x".into()), target: PeerId("server".into()), document, data: Vec::new() }),
        encode(&Message::Ephemeral {
            sender: PeerId("x".into()),
            target: PeerId("s".into()),
            document,
            session: "s".into(),
            count: 1,
            data: vec![1],
        }),
    ];
    (
        prop::sample::select(valid),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        any::<prop::sample::Index>(),
        prop::bool::ANY,
    )
        .prop_map(|(mut frame, flips, cut, truncate)| {
            for (index, byte) in flips {
                let position = index.index(frame.len());
                frame[position] = byte;
            }
            if truncate {
                frame.truncate(cut.index(frame.len() + 1));
            }
            frame
        })
}

/// Fuzzing cases: 512 in the test run; `HOUQIN_FUZZ_CASES=100000` for a long run.
fn fuzz_cases() -> u32 {
    std::env::var("HOUQIN_FUZZ_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_decoder_survives_any_bytes(frame in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = shared::protocol::decode(&frame, 1 << 20);
    }

    #[test]
    fn a_server_fed_garbage_keeps_serving_everyone_else(frames in prop::collection::vec(prop_oneof![mangled_frame(), prop::collection::vec(any::<u8>(), 0..64)], 1..12)) {
        let mut server = Server::new(ServerConfig { peer_id: PeerId("server".into()), storage_id: None, max_frame: 1 << 16, max_documents_in_flight: 64 });
        let (bad, good) = (ConnectionId(1), ConnectionId(2));
        server.handle_connected(bad);
        server.handle_connected(good);
        let mut phone = Client::new(ClientConfig::new(PeerId("good".into())), Timestamp::from_millis(0));
        let document = DocumentId::from_random([1; 16]);
        let mut doc = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "ok", true).unwrap();
        doc.commit();
        phone.add_document(document, doc);
        phone.handle_connected(Timestamp::from_millis(0));
        for frame in &frames {
            server.handle_frame(bad, frame);
        }
        // The good phone syncs through the same server, served by a loop like the host's.
        for _ in 0..50 {
            while let Some(Transmit::Frame(frame)) = phone.poll_transmit() {
                server.handle_frame(good, &frame);
            }
            while let Some(effect) = server.poll_effect() {
                match effect {
                    Effect::Send { connection, frame } if connection == good => phone.handle_frame(Timestamp::from_millis(0), &frame),
                    Effect::Close { connection, .. } => prop_assert_eq!(connection, bad, "only the bad connection may be closed"),
                    Effect::Load { document } => server.handle_loaded(document, None),
                    Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                    Effect::Persist { document, token, .. } => server.handle_persisted(document, token),
                    Effect::Send { .. } | Effect::Changed { .. } => {}
                }
            }
            if phone.status(&document) == Some(SyncStatus::Synced) {
                break;
            }
        }
        prop_assert_eq!(phone.status(&document), Some(SyncStatus::Synced));
    }
}
