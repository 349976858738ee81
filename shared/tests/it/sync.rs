//! The sync protocol's two roles over a simulated network: a virtual clock, a seeded
//! random number generator, frames delayed and connections dropped at random, storage
//! that is slow to confirm writes. Many random schedules; each must end with every
//! replica identical, every edit present, and everything a client saw acknowledged
//! already durable. With several servers sharing one store (as nodes share PostgreSQL),
//! a phone reaches a random one at each connection, servers hear of each other's stored
//! changes late or not at all (then they look again, as after a listener reconnects), and
//! compact what they hold — removing only the chunks their copy is known to hold.

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
    /// A server (by index) and the connection there.
    Server(usize, ConnectionId),
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
    /// The connection and the server it reached.
    connection: Option<(ConnectionId, usize)>,
    /// Off the network (a basement) until this time.
    offline_until: i64,
}

/// What one server keeps beside its role: the chunks of the shared store its copies are
/// known to hold (indices into [`World::durable`]), its writes in order, and the
/// documents to look at again once loaded.
#[derive(Default)]
struct Node {
    known: BTreeMap<DocumentId, BTreeSet<usize>>,
    /// Persists written but not yet confirmed: (confirm at, document, chunk, token).
    writing: VecDeque<(i64, DocumentId, Vec<u8>, PersistToken)>,
    refetch: BTreeSet<DocumentId>,
}

/// A message between servers: `document` was stored elsewhere (`None`: listening again,
/// look at everything held).
struct Notice {
    deliver_at: i64,
    server: usize,
    document: Option<DocumentId>,
}

struct World {
    random: Random,
    now: i64,
    servers: Vec<Server>,
    nodes: Vec<Node>,
    phones: Vec<Phone>,
    packets: Vec<Packet>,
    notices: Vec<Notice>,
    /// The shared durable store: chunks per document, only what a server was told is
    /// durable; a chunk a compaction removed is `None`.
    durable: BTreeMap<DocumentId, Vec<Option<Vec<u8>>>>,
    /// Whether servers compact documents they hold, and drop notices now and then.
    turbulent: bool,
    next_connection: u64,
    /// The time each connection's last frame arrives, to keep them in order.
    last_delivery: BTreeMap<(u64, bool), i64>,
    trace: Vec<String>,
}

impl World {
    fn durable_doc(&self, document: &DocumentId) -> Option<AutoCommit> {
        let chunks = self.durable.get(document)?;
        let mut doc = AutoCommit::new();
        for chunk in chunks.iter().flatten() {
            doc.load_incremental(chunk).unwrap();
        }
        Some(doc)
    }

    /// The stored chunks of `document` server `index` does not know, as (index, chunk).
    fn unknown(&self, server: usize, document: &DocumentId) -> Vec<(usize, Vec<u8>)> {
        let known = self.nodes[server].known.get(document);
        self.durable
            .get(document)
            .into_iter()
            .flat_map(|chunks| chunks.iter().enumerate())
            .filter_map(|(index, chunk)| Some((index, chunk.clone()?)))
            .filter(|(index, _)| known.is_none_or(|known| !known.contains(index)))
            .collect()
    }

    /// Server `index` looks at what others stored of `document`, if it holds it.
    fn look(&mut self, server: usize, document: DocumentId) {
        if self.servers[server].document(&document).is_none() {
            if self.servers[server].is_loading(&document) {
                self.nodes[server].refetch.insert(document);
            }
            return;
        }
        let unknown = self.unknown(server, &document);
        if unknown.is_empty() {
            return;
        }
        let chunks: Vec<Vec<u8>> = unknown.iter().map(|(_, chunk)| chunk.clone()).collect();
        if self.servers[server].handle_stored_elsewhere(document, &chunks) {
            self.nodes[server].known.entry(document).or_default().extend(unknown.iter().map(|(index, _)| *index));
        }
        self.trace.push(format!("t={} server {server} took {} chunks stored elsewhere", self.now, chunks.len()));
    }

    /// Server `index` compacts `document`: one snapshot of its copy in place of the chunks
    /// it knows it holds, others' left.
    fn compact(&mut self, server: usize, document: DocumentId) {
        let Some(doc) = self.servers[server].document(&document) else { return };
        let snapshot = doc.clone().save();
        let known = std::mem::take(self.nodes[server].known.entry(document).or_default());
        let chunks = self.durable.entry(document).or_default();
        for index in &known {
            chunks[*index] = None;
        }
        chunks.push(Some(snapshot));
        let snapshot_index = chunks.len() - 1;
        self.nodes[server].known.entry(document).or_default().insert(snapshot_index);
        self.trace.push(format!("t={} server {server} compacted {} chunks", self.now, known.len()));
    }

    fn send(&mut self, connection: ConnectionId, destination: Destination, frame: Vec<u8>) {
        let to_server = matches!(destination, Destination::Server(..));
        let earliest = self.last_delivery.get(&(connection.0, to_server)).copied().unwrap_or(self.now);
        let deliver_at = earliest.max(self.now) + 1 + self.random.below(40) as i64;
        self.last_delivery.insert((connection.0, to_server), deliver_at);
        self.packets.push(Packet { deliver_at, connection, destination, frame });
    }

    fn disconnect(&mut self, phone: usize) {
        if let Some((connection, server)) = self.phones[phone].connection.take() {
            self.servers[server].handle_disconnected(connection);
            self.packets.retain(|packet| packet.connection != connection);
            let random = self.random.next();
            self.phones[phone].client.handle_disconnected(Timestamp::from_millis(self.now), random);
        }
    }

    /// Carries out everything the roles asked for, repeatedly, until nothing is left.
    fn settle(&mut self) {
        loop {
            let mut progressed = false;
            for server in 0..self.servers.len() {
                while let Some(effect) = self.servers[server].poll_effect() {
                    progressed = true;
                    match effect {
                        Effect::Send { connection, frame } => {
                            if let Some(phone) = self.phones.iter().position(|phone| phone.connection == Some((connection, server))) {
                                self.send(connection, Destination::Client(phone), frame);
                            }
                        }
                        Effect::Close { connection, .. } => {
                            if let Some(phone) = self.phones.iter().position(|phone| phone.connection == Some((connection, server))) {
                                self.disconnect(phone);
                            }
                        }
                        Effect::Load { document } => {
                            let stored = self.durable_doc(&document);
                            let known = self
                                .durable
                                .get(&document)
                                .map(|chunks| (0..chunks.len()).filter(|index| chunks[*index].is_some()).collect());
                            self.nodes[server].known.insert(document, known.unwrap_or_default());
                            self.servers[server].handle_loaded(document, stored);
                            if self.nodes[server].refetch.remove(&document) {
                                self.look(server, document);
                            }
                        }
                        Effect::Authorize(request) => self.servers[server].handle_decision(request.ticket, Decision::Allow),
                        Effect::Persist { document, chunk, token } => {
                            // Each server's storage confirms in the order it was asked to write.
                            let writing = &self.nodes[server].writing;
                            let earliest = writing.back().map_or(self.now, |write| write.0);
                            let confirm_at = earliest.max(self.now) + self.random.below(30) as i64;
                            self.nodes[server].writing.push_back((confirm_at, document, chunk, token));
                        }
                        // The host makes no changes of its own here.
                        Effect::Changed { .. } => {}
                    }
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
                                // A load balancer sends each connection to any server.
                                let server = self.random.below(self.servers.len() as u64) as usize;
                                self.phones[index].connection = Some((connection, server));
                                self.servers[server].handle_connected(connection);
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
                        (Transmit::Frame(frame), Some((connection, server))) => {
                            self.send(connection, Destination::Server(server, connection), frame);
                        }
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
        let next_write = self.nodes.iter().filter_map(|node| node.writing.front().map(|write| write.0)).min();
        let next_notice = self.notices.iter().map(|notice| notice.deliver_at).min();
        let next_wakeup = self
            .phones
            .iter()
            .filter(|phone| phone.connection.is_none())
            .filter_map(|phone| phone.client.next_wakeup())
            .map(|at| at.as_millis().max(self.now))
            .min();
        let Some(next) = [next_packet, next_write, next_notice, next_wakeup].into_iter().flatten().min() else { return false };
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
                Destination::Server(server, _) => format!("->server {server}"),
                Destination::Client(_) => "->phone".to_owned(),
            };
            self.trace.push(format!("t={} conn={} {direction} {summary}", self.now, packet.connection.0));
            match packet.destination {
                Destination::Server(server, connection) => self.servers[server].handle_frame(connection, &packet.frame),
                Destination::Client(phone) => self.phones[phone].client.handle_frame(Timestamp::from_millis(self.now), &packet.frame),
            }
        } else if let Some(server) = self.nodes.iter().position(|node| node.writing.front().is_some_and(|write| write.0 <= self.now)) {
            // Each server's storage confirms in order.
            let (_, document, chunk, token) = self.nodes[server].writing.pop_front().unwrap();
            let chunks = self.durable.entry(document).or_default();
            chunks.push(Some(chunk));
            let index = chunks.len() - 1;
            self.nodes[server].known.entry(document).or_default().insert(index);
            self.trace.push(format!("t={} server {server} persisted {token:?}", self.now));
            self.servers[server].handle_persisted(document, token);
            // The others hear of it a while later; when turbulent, one may miss it and look
            // again at everything it holds later (its listener reconnected).
            for other in (0..self.servers.len()).filter(|other| *other != server) {
                let deliver_at = self.now + 1 + self.random.below(60) as i64;
                let missed = self.turbulent && self.random.chance(20);
                let document = (!missed).then_some(document);
                let deliver_at = if missed { deliver_at + self.random.below(300) as i64 } else { deliver_at };
                self.notices.push(Notice { deliver_at, server: other, document });
            }
            if self.turbulent && self.random.chance(30) {
                self.compact(server, document);
            }
        } else if let Some(index) = self.notices.iter().position(|notice| notice.deliver_at <= self.now) {
            let notice = self.notices.remove(index);
            match notice.document {
                Some(document) => self.look(notice.server, document),
                None => {
                    self.trace.push(format!("t={} server {} listens again", self.now, notice.server));
                    for document in self.servers[notice.server].documents_in_memory() {
                        self.look(notice.server, document);
                    }
                }
            }
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

fn run(seed: u64, steps: usize, servers: usize) {
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
    let servers = (0..servers)
        .map(|index| {
            Server::new(ServerConfig {
                peer_id: PeerId(format!("server-{index}")),
                storage_id: Some("server-storage".into()),
                max_frame: 1 << 20,
                max_documents_in_flight: 64,
            })
        })
        .collect::<Vec<_>>();
    let mut world = World {
        random,
        now: 0,
        turbulent: servers.len() > 1,
        nodes: servers.iter().map(|_| Node::default()).collect(),
        servers,
        phones,
        packets: Vec::new(),
        notices: Vec::new(),
        durable: BTreeMap::new(),
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
        let quiet =
            |world: &World| world.packets.is_empty() && world.notices.is_empty() && world.nodes.iter().all(|node| node.writing.is_empty());
        if quiet(&world) && world.phones.iter().all(|phone| phone.client.is_online()) {
            world.settle();
            if quiet(&world) {
                break;
            }
        }
    }

    let durable = world.durable_doc(&document).expect("the document reached the disk");
    // Every server holding the document holds what is stored, and some server holds it.
    let holding: Vec<AutoCommit> = world.servers.iter().filter_map(|server| server.document(&document).cloned()).collect();
    assert!(!holding.is_empty(), "no server loaded the document");
    for doc in &holding {
        assert_eq!(heads(doc), heads(&durable), "a server's copy differs from the disk after settling");
    }
    let server_doc = durable.clone();
    for (index, phone) in world.phones.iter().enumerate() {
        let doc = phone.client.document(&document).unwrap();
        assert_eq!(heads(doc), heads(&server_doc), "phone {index} differs from the disk");
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
        run(seed, 80, 1);
    }

    /// Servers sharing one store, each phone connection reaching any of them, servers
    /// hearing of each other's writes late or missing them, and compacting what they hold.
    #[test]
    fn three_phones_and_three_servers_sharing_a_store_converge(seed in any::<u64>()) {
        run(seed, 80, 3);
    }
}

#[test]
fn a_quiet_start_converges_too() {
    run(1, 5, 1);
    run(1, 5, 2);
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
