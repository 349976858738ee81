//! A person's own notices: Web Push to their phones and mail to their address, in their
//! language, as they chose in Settings — against a push service and a mail server started
//! here on loopback, both over TLS with a certificate authority the server was told to
//! trust (as a site's own would be), and read the way a phone and a mail client read them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes_gcm::aead::{Aead as _, KeyInit as _};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use p256::ecdsa::signature::Verifier as _;
use serde_json::json;
use shared::notice::{Channel, NoticeKind, OutboxEntry};
use shared::protocol::DocumentId;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio_rustls::TlsAcceptor;

use crate::https::tls_init;
use crate::notify::{phone, report_and_assign};
use crate::server_process::ServerProcess;
use crate::support::{TestServer, wait_for};

const PATIENCE: Duration = Duration::from_secs(60);

/// A TLS acceptor with the certificate `tls init --host localhost` made in `data`, and the
/// path of the authority that signed it.
fn localhost_tls(data: &Path) -> (TlsAcceptor, std::path::PathBuf) {
    tls_init(data, &["--host", "localhost"]);
    let db = data.join("db");
    let files = server::tls::TlsFiles::in_data(&db).unwrap();
    let config = server::tls::Certificates::load(files).unwrap().server_config().unwrap();
    (TlsAcceptor::from(config), db.join(server::tls::TLS_DIR).join(server::tls::CA_CERT))
}

/// A request a push service took: its path, headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Pushed {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A push service on loopback over TLS: it keeps every request and answers 201, or 410
/// (the phone unsubscribed) for paths under `/gone`. Its port.
async fn push_service(acceptor: TlsAcceptor, pushed: Arc<Mutex<Vec<Pushed>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (acceptor, pushed) = (acceptor.clone(), pushed.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else { return };
                let mut stream = BufReader::new(stream);
                let mut request_line = String::new();
                stream.read_line(&mut request_line).await.unwrap();
                let path = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
                let mut headers = HashMap::new();
                loop {
                    let mut line = String::new();
                    stream.read_line(&mut line).await.unwrap();
                    let Some((name, value)) = line.trim_end().split_once(':') else { break };
                    headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                }
                let mut body = vec![0; headers.get("content-length").map_or(0, |length| length.parse().unwrap())];
                stream.read_exact(&mut body).await.unwrap();
                let status = if path.starts_with("/gone") { "410 Gone" } else { "201 Created" };
                pushed.lock().unwrap().push(Pushed { path, headers, body });
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                stream.write_all(answer.as_bytes()).await.unwrap();
                stream.shutdown().await.ok();
            });
        }
    });
    port
}

/// A phone's push subscription: its key pair and authentication secret.
struct PhoneKeys {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl PhoneKeys {
    fn new(seed: u8) -> PhoneKeys {
        let mut scalar = [seed; 32];
        scalar[0] = 1;
        PhoneKeys { secret: p256::SecretKey::from_slice(&scalar).unwrap(), auth: [seed; 16] }
    }

    /// The subscription as the phone's browser gives it (`PushSubscription.toJSON()`).
    fn subscription(&self, endpoint: &str) -> serde_json::Value {
        let public = self.secret.public_key().to_sec1_bytes();
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": { "p256dh": Base64UrlUnpadded::encode_string(&public), "auth": Base64UrlUnpadded::encode_string(&self.auth) },
        })
    }

    /// A payload as the phone's browser opens it (RFC 8291 with RFC 8188's `aes128gcm`).
    fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        let (salt, rest) = body.split_at(16);
        let record_size = u32::from_be_bytes(rest[..4].try_into().unwrap());
        let id_length = usize::from(rest[4]);
        let (server_public, record) = rest[5..].split_at(id_length);
        assert!(record.len() <= record_size as usize, "one record");
        let server_public = p256::PublicKey::from_sec1_bytes(server_public).unwrap();
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), server_public.as_affine());
        let phone_public = self.secret.public_key().to_sec1_bytes();
        let info = [b"WebPush: info\0".as_slice(), &phone_public, &server_public.to_sec1_bytes()].concat();
        let mut input = [0; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(&self.auth), shared.raw_secret_bytes()).expand(&info, &mut input).unwrap();
        let content = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &input);
        let (mut key, mut nonce) = ([0; 16], [0; 12]);
        content.expand(b"Content-Encoding: aes128gcm\0", &mut key).unwrap();
        content.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain =
            aes_gcm::Aes128Gcm::new(&key.into()).decrypt(&nonce.into(), record).expect("the payload opens with the phone's keys");
        assert_eq!(plain.pop(), Some(2), "the last record's delimiter");
        plain
    }
}

/// Checks a push request's VAPID `Authorization`: a token for the push service's origin,
/// signed (ES256) by the key it names, which is the server's `push_key`. Returns its claims.
fn vapid_claims(authorization: &str, push_key: &str, origin: &str) -> serde_json::Value {
    let (token, key) = authorization.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
    assert_eq!(key, push_key);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&Base64UrlUnpadded::decode_vec(key).unwrap()).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&Base64UrlUnpadded::decode_vec(signature).unwrap()).unwrap();
    key.verify(signed.as_bytes(), &signature).expect("the VAPID token is signed with the server's key");
    let claims: serde_json::Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(signed.split_once('.').unwrap().1).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    claims
}

/// A mail the mail server took: the login, the envelope and the message.
#[derive(Clone, Debug, Default)]
struct Mail {
    login: String,
    to: Vec<String>,
    message: String,
}

/// Answers one SMTP command line by line until the client says `QUIT`, `DATA` included;
/// returns whether the client asked for STARTTLS.
async fn smtp_dialogue<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>, tls: bool, mail: &mut Mail, refuse: &str) -> bool {
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return false;
        }
        let command = line.trim_end();
        let verb = command.split([' ', ':']).next().unwrap_or_default().to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" if tls => "250-localhost\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n".to_owned(),
            "EHLO" => "250-localhost\r\n250 STARTTLS\r\n".to_owned(),
            "STARTTLS" => {
                stream.write_all(b"220 go ahead\r\n").await.unwrap();
                stream.flush().await.unwrap();
                return true;
            }
            "AUTH" if tls => {
                let plain = Base64::decode_vec(command.rsplit(' ').next().unwrap()).unwrap();
                mail.login = String::from_utf8(plain).unwrap();
                "235 welcome\r\n".to_owned()
            }
            "MAIL" if tls && !mail.login.is_empty() => "250 ok\r\n".to_owned(),
            "RCPT" if command.contains(refuse) => "550 no such mailbox\r\n".to_owned(),
            "RCPT" => {
                mail.to.push(command.split_once(':').unwrap().1.trim().trim_matches(['<', '>']).to_owned());
                "250 ok\r\n".to_owned()
            }
            "DATA" => {
                stream.write_all(b"354 go on\r\n").await.unwrap();
                stream.flush().await.unwrap();
                loop {
                    let mut data = String::new();
                    stream.read_line(&mut data).await.unwrap();
                    if data == ".\r\n" {
                        break;
                    }
                    mail.message.push_str(&data);
                }
                "250 kept\r\n".to_owned()
            }
            "QUIT" => {
                stream.write_all(b"221 bye\r\n").await.unwrap();
                return false;
            }
            _ => "530 say STARTTLS and AUTH first\r\n".to_owned(),
        };
        stream.write_all(answer.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
    }
}

/// A mail server on loopback that takes mail only after STARTTLS and a login, and refuses
/// any recipient containing `refuse` for good. Its port.
async fn mail_server(acceptor: TlsAcceptor, mails: Arc<Mutex<Vec<Mail>>>, refuse: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (acceptor, mails) = (acceptor.clone(), mails.clone());
            tokio::spawn(async move {
                let mut plain = BufReader::new(stream);
                plain.write_all(b"220 localhost ESMTP\r\n").await.unwrap();
                plain.flush().await.unwrap();
                let mut mail = Mail::default();
                if !smtp_dialogue(&mut plain, false, &mut mail, refuse).await {
                    return;
                }
                let Ok(secure) = acceptor.accept(plain.into_inner()).await else { return };
                smtp_dialogue(&mut BufReader::new(secure), true, &mut mail, refuse).await;
                if !mail.message.is_empty() {
                    mails.lock().unwrap().push(mail);
                }
            });
        }
    });
    port
}

/// A mail's headers, and its text decoded from its transfer encoding.
fn read_mail(message: &str) -> (HashMap<String, String>, String) {
    let (head, body) = message.split_once("\r\n\r\n").unwrap();
    let mut headers = HashMap::new();
    let mut last = String::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers.entry(last.clone()).and_modify(|value: &mut String| value.push_str(line.trim_start()));
        } else if let Some((name, value)) = line.split_once(':') {
            last = name.to_ascii_lowercase();
            headers.insert(last.clone(), value.trim().to_owned());
        }
    }
    let text = match headers.get("content-transfer-encoding").map(String::as_str) {
        Some("base64") => String::from_utf8(Base64::decode_vec(&body.replace("\r\n", "")).unwrap()).unwrap(),
        Some("quoted-printable") => {
            let joined = body.replace("=\r\n", "");
            let mut bytes = Vec::new();
            let mut rest = joined.as_bytes();
            while let Some((first, tail)) = rest.split_first() {
                if *first == b'=' && tail.len() >= 2 {
                    bytes.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
                    rest = &tail[2..];
                } else {
                    bytes.push(*first);
                    rest = tail;
                }
            }
            String::from_utf8(bytes).unwrap()
        }
        _ => body.to_owned(),
    };
    (headers, text)
}

/// An RFC 2047 header (`=?utf-8?b?…?=` words, the space between two of them not counted)
/// as text.
fn header_text(value: &str) -> String {
    let mut text = String::new();
    let mut after_encoded = false;
    for (index, word) in value.split_whitespace().enumerate() {
        let decoded = word
            .strip_prefix("=?utf-8?b?")
            .and_then(|rest| rest.strip_suffix("?="))
            .map(|encoded| String::from_utf8(Base64::decode_vec(encoded).unwrap()).unwrap());
        if index > 0 && !(after_encoded && decoded.is_some()) {
            text.push(' ');
        }
        after_encoded = decoded.is_some();
        text.push_str(&decoded.unwrap_or_else(|| word.to_owned()));
    }
    text
}

#[tokio::test]
async fn an_assignment_reaches_the_technicians_phone_by_web_push_and_their_mail_in_their_language() {
    // The push service's and mail server's certificate, from an authority of their own.
    let (data, certificates) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (acceptor, authority) = localhost_tls(certificates.path());
    let pushed = Arc::new(Mutex::new(Vec::new()));
    let push_port = push_service(acceptor.clone(), pushed.clone()).await;
    let mails = Arc::new(Mutex::new(Vec::new()));
    let mail_port = mail_server(acceptor, mails.clone(), "nobody@").await;
    let smtp_url = format!("smtp://houqin:mail%20password@localhost:{mail_port}?tls=required");
    let server = ServerProcess::start_with_env(
        data.path(),
        &["--demo", "--public-url", "https://houqin.lan"],
        &[
            ("SSL_CERT_FILE", authority.to_str().unwrap()),
            ("HOUQIN_SMTP_URL", &smtp_url),
            ("HOUQIN_MAIL_FROM", "Houqin <houqin@hq.example>"),
        ],
    );
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}{}", server.url, path.trim_start_matches('/'));
    let tech = crate::support::login(&server.url, "tech", "demo").await;

    // Only the person's own settings, and only what works.
    assert_eq!(client.get(api("/api/me/notices")).send().await.unwrap().status(), 401);
    let put = |body: serde_json::Value| client.put(api("/api/me/notices")).bearer_auth(&tech).json(&body).send();
    assert_eq!(put(json!({ "language": "fr" })).await.unwrap().status(), 400);
    assert_eq!(put(json!({ "email": "not an address" })).await.unwrap().status(), 400);
    assert_eq!(put(json!({ "quiet": { "from": 1440, "to": 60, "utc_offset": 480 } })).await.unwrap().status(), 400);
    let set = put(json!({ "language": "en", "email": " tech@hq.example " })).await.unwrap();
    assert_eq!(set.status(), 200);
    let view: serde_json::Value = set.json().await.unwrap();
    assert_eq!(
        (&view["settings"]["email"], &view["settings"]["language"], &view["mail"]),
        (&json!("tech@hq.example"), &json!("en"), &json!(true))
    );
    let push_key = view["push_key"].as_str().unwrap().to_owned();
    assert_eq!(Base64UrlUnpadded::decode_vec(&push_key).unwrap().len(), 65, "an uncompressed P-256 point");

    // Two phones: one the push service still knows, one it dropped.
    let subscribe = |body: serde_json::Value| client.post(api("/api/me/push")).bearer_auth(&tech).json(&body).send();
    let (phone_keys, dropped_keys) = (PhoneKeys::new(7), PhoneKeys::new(9));
    let endpoint = format!("https://localhost:{push_port}/push/tech-phone");
    let plain = format!("http://localhost:{push_port}/push/tech-phone");
    assert_eq!(subscribe(phone_keys.subscription(&plain)).await.unwrap().status(), 400, "an http:// endpoint");
    let mut bad_keys = phone_keys.subscription(&endpoint);
    bad_keys["keys"]["p256dh"] = json!(Base64UrlUnpadded::encode_string(&[4; 65]));
    assert_eq!(subscribe(bad_keys).await.unwrap().status(), 400, "a public key off the curve");
    assert_eq!(subscribe(json!({ "endpoint": endpoint })).await.unwrap().status(), 400, "no keys");
    assert_eq!(subscribe(phone_keys.subscription(&endpoint)).await.unwrap().status(), 200);
    let gone = format!("https://localhost:{push_port}/gone/old-phone");
    let view: serde_json::Value = subscribe(dropped_keys.subscription(&gone)).await.unwrap().json().await.unwrap();
    assert_eq!(view["phones"], 2);

    let mut tokens = HashMap::new();
    for user in ["inspector", "manager"] {
        tokens.insert(user, crate::support::login(&server.url, user, "demo").await);
    }
    let ws = server.url.replacen("http://", "ws://", 1);
    let document = DocumentId::from_random(*b"push-and-mail-01");
    report_and_assign(|user| format!("{ws}sync?token={}", tokens[user]), document, &mut phone("manager-phone"), None).await;

    let link = format!("https://houqin.lan/orders/{document}");
    let push = wait_for("the push to the technician's phone", PATIENCE, || async {
        pushed.lock().unwrap().iter().find(|request| request.path == "/push/tech-phone").cloned()
    })
    .await;
    assert_eq!((push.headers["content-encoding"].as_str(), push.headers["urgency"].as_str()), ("aes128gcm", "normal"));
    assert!(push.headers["ttl"].parse::<u32>().unwrap() > 0);
    let claims = vapid_claims(&push.headers["authorization"], &push_key, &format!("https://localhost:{push_port}"));
    assert_eq!(claims["sub"], "https://houqin.lan");
    let payload: serde_json::Value = serde_json::from_slice(&phone_keys.decrypt(&push.body)).unwrap();
    assert_eq!(
        payload,
        json!({
            "title": "Assigned to you", "body": "走廊灯不亮 (hq-b1)", "url": link,
            "tag": document.to_string(), "notice": format!("{document}/assigned/tech"),
        })
    );

    let mail = wait_for("the mail to the technician", PATIENCE, || async { mails.lock().unwrap().first().cloned() }).await;
    assert_eq!(mail.login, "\0houqin\0mail password", "signed in with the credentials from the environment, after STARTTLS");
    assert_eq!(mail.to, ["tech@hq.example"]);
    let (headers, text) = read_mail(&mail.message);
    assert_eq!(header_text(&headers["subject"]), "Assigned to you: 走廊灯不亮");
    assert!(headers["from"].contains("houqin@hq.example"), "{headers:?}");
    assert!(headers["message-id"].contains(&document.to_string()), "{headers:?}");
    assert!(text.starts_with("走廊灯不亮 (hq-b1)\r\n") && text.contains(&format!("Open: {link}")), "{text}");

    // The phone the push service dropped is dropped here too; the notice was delivered.
    let admin = crate::support::login(&server.url, "admin", "demo").await;
    let entry = wait_for("both channels recorded", PATIENCE, || async {
        let entries: Vec<OutboxEntry> =
            client.get(api("/api/admin/deliveries")).bearer_auth(&admin).send().await.ok()?.json().await.ok()?;
        entries.into_iter().find(|entry| {
            entry.notice.id() == format!("{document}/assigned/tech")
                && [Channel::Push, Channel::Email]
                    .iter()
                    .all(|channel| entry.deliveries.get(channel).is_some_and(|delivery| delivery.delivered_at.is_some()))
        })
    })
    .await;
    assert_eq!(entry.deliveries[&Channel::Push].attempts, 1);
    assert!(pushed.lock().unwrap().iter().any(|request| request.path == "/gone/old-phone"));
    let view: serde_json::Value = client.get(api("/api/me/notices")).bearer_auth(&tech).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["phones"], 1, "the phone its push service no longer knows is forgotten");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pushed.lock().unwrap().iter().filter(|request| request.path == "/push/tech-phone").count(), 1, "pushed once");
    assert_eq!(mails.lock().unwrap().len(), 1, "mailed once");

    // A mail server's refusal for good is not tried again: the reporter's address is refused.
    let inspector = &tokens["inspector"];
    let set =
        client.put(api("/api/me/notices")).bearer_auth(inspector).json(&json!({ "email": "nobody@hq.example" })).send().await.unwrap();
    assert_eq!(set.status(), 200);
    let tech_sync = format!("{ws}sync?token={tech}");
    let mut tech_phone = phone("tech-phone");
    let synced = |client: &shared::protocol::client::Client| client.status(&document) == Some(shared::protocol::client::SyncStatus::Synced);
    tech_phone.request_document(document);
    tests::native_client::sync_until(&mut tech_phone, &tech_sync, PATIENCE, synced).await.unwrap();
    crate::sync::edit_order(&mut tech_phone, &document, |order| {
        use shared::document::EntryId;
        use shared::document::work_order::EventKind;
        order.record(&EntryId::parse("completed").unwrap(), &EventKind::Completed { notes: "换了灯管".into() }, &crate::sync::edit("tech"));
    });
    tests::native_client::sync_until(&mut tech_phone, &tech_sync, PATIENCE, synced).await.unwrap();
    let refused = wait_for("the refused mail recorded", PATIENCE, || async {
        let entries: Vec<OutboxEntry> =
            client.get(api("/api/admin/deliveries")).bearer_auth(&admin).send().await.ok()?.json().await.ok()?;
        let entry = entries.into_iter().find(|entry| entry.notice.kind == NoticeKind::ToVerify)?;
        entry.deliveries.get(&Channel::Email).filter(|delivery| delivery.attempts > 0).cloned()
    })
    .await;
    assert!(refused.given_up && refused.attempts == 1, "{refused:?}");
    assert!(refused.last_error.as_deref().is_some_and(|error| error.contains("550")), "{refused:?}");
    assert!(server.terminate().success());
}

/// An order the inspector reports and the manager assigns to the technician, raised to
/// urgent priority first when `urgent`.
async fn assign(server: &TestServer, document: DocumentId, urgent: bool) {
    use shared::document::EntryId;
    use shared::document::work_order::{EventKind, Priority};
    use shared::protocol::client::{Client, SyncStatus};
    let synced = |client: &Client| client.status(&document) == Some(SyncStatus::Synced);
    let mut reporter = phone("teacher-phone");
    reporter.add_document(document, crate::sync::order_by("inspector", "hq", "水管漏水"));
    tests::native_client::sync_until(&mut reporter, &server.sync_url("inspector"), PATIENCE, synced).await.unwrap();
    let mut manager = phone("manager-phone");
    manager.request_document(document);
    tests::native_client::sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();
    crate::sync::edit_order(&mut manager, &document, |order| {
        if urgent {
            order.set_priority(Priority::Urgent, &crate::sync::edit("manager"));
        }
        let assignee = shared::directory::Username::parse("tech").unwrap();
        order.record(&EntryId::parse("assigned").unwrap(), &EventKind::Assigned { assignee }, &crate::sync::edit("manager"));
    });
    tests::native_client::sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();
}

#[tokio::test]
async fn muted_orders_kinds_turned_off_and_quiet_hours_decide_what_reaches_a_person_and_when() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let client = reqwest::Client::new();
    let tech = server.token("tech");
    let subscription = PhoneKeys::new(5).subscription("https://push.invalid/tech-phone");
    let subscribed = client.post(server.url("/api/me/push")).bearer_auth(&tech).json(&subscription).send().await.unwrap();
    assert_eq!(subscribed.status(), 200);

    // Quiet from an hour ago to an hour from now, by a clock at UTC.
    let now = tests::native_client::now();
    let minute = now.as_millis().div_euclid(60_000).rem_euclid(1440);
    let quiet = json!({ "from": (minute + 1380) % 1440, "to": (minute + 60) % 1440, "utc_offset": 0 });
    let set = client.put(server.url("/api/me/notices")).bearer_auth(&tech).json(&json!({ "quiet": quiet })).send().await.unwrap();
    assert_eq!(set.status(), 200);
    let (muted, later, urgent, unwanted) = (
        DocumentId::from_random(*b"muted-order-0001"),
        DocumentId::from_random(*b"after-quiet-0001"),
        DocumentId::from_random(*b"urgent-order-001"),
        DocumentId::from_random(*b"kind-turned-off1"),
    );
    let mute = client.put(server.url(&format!("/api/me/muted/{muted}"))).bearer_auth(&tech).send().await.unwrap();
    assert_eq!(mute.status(), 200);
    let view: serde_json::Value = mute.json().await.unwrap();
    assert_eq!(view["settings"]["muted"], json!([muted.to_string()]));
    assert_eq!(client.put(server.url("/api/me/muted/not-a-document")).bearer_auth(&tech).send().await.unwrap().status(), 400);

    assign(&server, muted, false).await;
    assign(&server, later, false).await;
    assign(&server, urgent, true).await;
    let entries = || {
        let entries = server.state.outbox.entries().unwrap();
        move |document: DocumentId| {
            entries.iter().find(|entry| entry.notice.document == document && entry.notice.kind == NoticeKind::Assigned).cloned()
        }
    };
    wait_for("the three assignments' notices", PATIENCE, || async {
        let find = entries();
        [muted, later, urgent].into_iter().map(find).collect::<Option<Vec<_>>>()
    })
    .await;
    let find = entries();
    assert_eq!(find(muted).unwrap().deliveries.get(&Channel::Push), None, "a muted order reaches no phone");
    let held = find(later).unwrap().deliveries[&Channel::Push].next_at;
    assert!(held.millis_since(now) > 55 * 60_000 && held.millis_since(now) <= 60 * 60_000, "held until the quiet hours end: {held:?}");
    let told = find(urgent).unwrap();
    assert!(told.notice.urgent);
    assert!(told.deliveries[&Channel::Push].next_at.millis_since(now) < 60_000, "urgent comes through quiet hours");

    // Assignments turned off (and settings set again keep the muted order muted).
    let set = client.put(server.url("/api/me/notices")).bearer_auth(&tech).json(&json!({ "off": ["assigned"] })).send().await.unwrap();
    let view: serde_json::Value = set.json().await.unwrap();
    assert_eq!(view["settings"]["muted"], json!([muted.to_string()]));
    assign(&server, unwanted, false).await;
    let entry = wait_for("the fourth notice", PATIENCE, || async { entries()(unwanted) }).await;
    assert_eq!(entry.deliveries.get(&Channel::Push), None, "a kind turned off reaches no phone");
    server.stop().await.unwrap();
}
