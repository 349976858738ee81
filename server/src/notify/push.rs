//! Web Push: notices on the phones where people turned notifications on, through their
//! browser's push service (RFC 8030). The server identifies itself to push services with a
//! VAPID key pair (RFC 8292) it makes once and keeps in its data, and encrypts every
//! payload for the subscription's keys (RFC 8291: ECDH on P-256, HKDF, and one
//! `aes128gcm` record of RFC 8188), so the push service carries what it cannot read.
//!
//! Tree `push_subscriptions`: username, a zero byte and the SHA-256 of the endpoint →
//! [`Subscription`] as JSON. A push service that answers 404 or 410 for an endpoint has
//! dropped it, and so does the server.

use anyhow::Context;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use ring::{aead, agreement, hkdf};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use shared::directory::Username;
use shared::time::{Span, Timestamp};

use crate::Storage;
use crate::kv;
use crate::storage::trees;

/// How many phones one person may have notified; a new one beyond replaces the oldest.
pub const MAX_SUBSCRIPTIONS: usize = 10;
/// How long a push service keeps a notice for a phone that is off (its `TTL`), in seconds.
const TIME_TO_LIVE: u32 = 24 * 60 * 60;
/// How long a VAPID token is good for (push services take up to a day).
const TOKEN_LIFE: Span = Span::hours(12);
/// The one record's size: a payload and its padding delimiter must fit with the tag.
const RECORD_SIZE: u32 = 4096;
/// The longest payload that fits one record.
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 16 - 1;
const VAPID_KEY: &[u8] = b"vapid_key";

/// A phone's push subscription, as its browser's `PushSubscription.toJSON()` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    /// When the server was given it (set by the server).
    #[serde(default = "never")]
    pub added_at: Timestamp,
}

fn never() -> Timestamp {
    Timestamp::from_millis(0)
}

/// The subscription's keys, base64url: the phone's P-256 public key (`p256dh`, 65 bytes
/// uncompressed) and its authentication secret (`auth`, 16 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// Why a subscription was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadSubscription {
    #[error("the push endpoint must be an https:// address of at most 1024 characters")]
    Endpoint,
    #[error("the subscription's keys are not a P-256 public key and a 16-byte secret")]
    Keys,
}

/// A subscription's keys, decoded.
struct Keys {
    public: [u8; 65],
    auth: [u8; 16],
}

fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).ok()?.try_into().ok()
}

impl Subscription {
    /// The subscription if its endpoint is an `https://` address and its keys are a point
    /// on P-256 and a 16-byte secret.
    pub fn checked(self) -> Result<Subscription, BadSubscription> {
        let endpoint = reqwest::Url::parse(&self.endpoint).map_err(|_| BadSubscription::Endpoint)?;
        if self.endpoint.len() > 1024 || endpoint.scheme() != "https" || endpoint.host().is_none() || !endpoint.username().is_empty() {
            return Err(BadSubscription::Endpoint);
        }
        let keys = self.keys().ok_or(BadSubscription::Keys)?;
        // The point is checked by agreeing a key with it, as every notice will.
        encrypt(b"", &keys).map_err(|_| BadSubscription::Keys)?;
        Ok(self)
    }

    fn keys(&self) -> Option<Keys> {
        Some(Keys { public: decode(&self.keys.p256dh)?, auth: decode(&self.keys.auth)? })
    }
}

/// The server's VAPID key pair and the people's subscriptions; cheap to clone.
#[derive(Clone)]
pub struct Push {
    key: std::sync::Arc<EcdsaKeyPair>,
    subscriptions: kv::Tree,
}

fn subscription_key(user: &Username, endpoint: &str) -> Vec<u8> {
    [user.as_str().as_bytes(), &[0], Sha256::digest(endpoint.as_bytes()).as_slice()].concat()
}

fn user_prefix(user: &Username) -> Vec<u8> {
    [user.as_str().as_bytes(), &[0]].concat()
}

impl Push {
    /// Opens the subscriptions, and the VAPID key pair, made and stored the first time.
    pub fn open(storage: &Storage) -> anyhow::Result<Push> {
        let meta = storage.tree(trees::META)?;
        let random = SystemRandom::new();
        if meta.get(VAPID_KEY)?.is_none() {
            let fresh = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                .map_err(|_| anyhow::anyhow!("cannot make a VAPID key"))?;
            // Two servers opening at once keep the first key stored.
            let _ = meta.compare_and_swap(VAPID_KEY, None::<&[u8]>, Some(fresh.as_ref())).context("cannot store the VAPID key")?;
        }
        let stored = meta.get(VAPID_KEY)?.context("the VAPID key was just stored")?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &stored, &random)
            .map_err(|_| anyhow::anyhow!("the stored VAPID key is unreadable"))?;
        Ok(Push { key: std::sync::Arc::new(key), subscriptions: storage.tree(trees::PUSH_SUBSCRIPTIONS)? })
    }

    /// The public key phones subscribe with (`applicationServerKey`), base64url.
    pub fn public_key(&self) -> String {
        Base64UrlUnpadded::encode_string(self.key.public_key().as_ref())
    }

    /// Keeps `subscription` for `user` (again, if it was kept: the same endpoint is one
    /// phone), dropping their oldest beyond `MAX_SUBSCRIPTIONS`. The phone is theirs from
    /// now on: anyone else it was subscribed for (who left without signing out) is told
    /// nothing more on it. Blocking.
    pub fn subscribe(&self, user: &Username, subscription: Subscription, now: Timestamp) -> anyhow::Result<()> {
        let subscription = Subscription { added_at: now, ..subscription };
        let key = subscription_key(user, &subscription.endpoint);
        let endpoint_hash = Sha256::digest(subscription.endpoint.as_bytes());
        for other in self.subscriptions.iter().keys() {
            let other = other.context("cannot read push subscriptions")?;
            if other.ends_with(endpoint_hash.as_slice()) && other != key.as_slice() {
                self.subscriptions.remove(other).context("cannot drop a push subscription")?;
            }
        }
        self.subscriptions.insert(key, serde_json::to_vec(&subscription)?).context("cannot keep a push subscription")?;
        let mut kept = self.of(user)?;
        if kept.len() > MAX_SUBSCRIPTIONS {
            kept.sort_by_key(|kept| kept.added_at);
            for oldest in &kept[..kept.len() - MAX_SUBSCRIPTIONS] {
                self.unsubscribe(user, &oldest.endpoint)?;
            }
        }
        Ok(())
    }

    /// Forgets `user`'s phone at `endpoint`. Blocking.
    pub fn unsubscribe(&self, user: &Username, endpoint: &str) -> anyhow::Result<()> {
        self.subscriptions.remove(subscription_key(user, endpoint)).context("cannot drop a push subscription")?;
        Ok(())
    }

    /// `user`'s subscriptions. Blocking.
    pub fn of(&self, user: &Username) -> anyhow::Result<Vec<Subscription>> {
        self.subscriptions
            .scan_prefix(user_prefix(user))
            .values()
            .map(|value| {
                serde_json::from_slice(&value.context("cannot read push subscriptions")?).context("a push subscription is unreadable")
            })
            .collect()
    }

    /// Whether `user` has a phone to notify. Blocking.
    pub fn has_any(&self, user: &Username) -> anyhow::Result<bool> {
        Ok(self.subscriptions.scan_prefix(user_prefix(user)).next().transpose().context("cannot read push subscriptions")?.is_some())
    }

    /// The `Authorization` header for a request to `endpoint`: a VAPID token for its
    /// origin, signed with the server's key, and the key. `subject` is how the push
    /// service may reach whoever runs the server (`mailto:` or `https:`).
    fn authorization(&self, endpoint: &reqwest::Url, subject: &str, now: Timestamp) -> anyhow::Result<String> {
        let header = Base64UrlUnpadded::encode_string(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now.plus(TOKEN_LIFE).as_seconds(),
            "sub": subject,
        });
        let claims = Base64UrlUnpadded::encode_string(&serde_json::to_vec(&claims)?);
        let signed = format!("{header}.{claims}");
        let signature = self.key.sign(&SystemRandom::new(), signed.as_bytes()).map_err(|_| anyhow::anyhow!("cannot sign a VAPID token"))?;
        Ok(format!("vapid t={signed}.{}, k={}", Base64UrlUnpadded::encode_string(signature.as_ref()), self.public_key()))
    }

    /// Sends `payload` to one phone. `Ok(true)`: the push service took it; `Ok(false)`:
    /// the phone is gone (404, 410) and its subscription dropped; `Err`: worth another try.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        user: &Username,
        subscription: &Subscription,
        payload: &[u8],
        urgent: bool,
        subject: &str,
    ) -> Result<bool, String> {
        let endpoint = reqwest::Url::parse(&subscription.endpoint).map_err(|error| error.to_string())?;
        let keys = subscription.keys().ok_or("the subscription's keys are unreadable")?;
        let body = encrypt(payload, &keys).map_err(|error| format!("{error:#}"))?;
        let authorization = self.authorization(&endpoint, subject, crate::auth::now()).map_err(|error| format!("{error:#}"))?;
        let response = client
            .post(endpoint)
            .header("authorization", authorization)
            .header("ttl", TIME_TO_LIVE.to_string())
            .header("urgency", if urgent { "high" } else { "normal" })
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 | 410 => {
                let (push, user, endpoint) = (self.clone(), user.clone(), subscription.endpoint.clone());
                let dropped = tokio::task::spawn_blocking(move || push.unsubscribe(&user, &endpoint)).await;
                if let Ok(Err(error)) = dropped {
                    tracing::error!(error = format!("{error:#}"), "cannot drop a gone push subscription");
                }
                Ok(false)
            }
            status => Err(format!("the push service answered {status}")),
        }
    }
}

/// The length of a key HKDF gives.
struct Length(usize);

impl hkdf::KeyType for Length {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[&[u8]], length: usize) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![0; length];
    prk.expand(info, Length(length)).and_then(|okm| okm.fill(&mut out)).map_err(|_| anyhow::anyhow!("HKDF failed"))?;
    Ok(out)
}

/// `payload` encrypted for a subscription's keys (RFC 8291), as the request's body: the
/// `aes128gcm` header (salt, record size, the server's one-time public key) and one record.
fn encrypt(payload: &[u8], keys: &Keys) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(payload.len() <= MAX_PAYLOAD, "a push payload of {} bytes is over {MAX_PAYLOAD}", payload.len());
    let random = SystemRandom::new();
    let mut salt = [0; 16];
    random.fill(&mut salt).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &random).map_err(|_| anyhow::anyhow!("no key"))?;
    let server_public = private.compute_public_key().map_err(|_| anyhow::anyhow!("no public key"))?;
    let phone_public = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, keys.public);
    let shared_secret = agreement::agree_ephemeral(private, &phone_public, <[u8]>::to_vec)
        .map_err(|_| anyhow::anyhow!("the subscription's public key is not a point on P-256"))?;
    // RFC 8291 §3.4: the input keying material from the shared secret and the phone's
    // secret, bound to both public keys; RFC 8188 §2.2: the content key and nonce from it.
    let key_info: &[&[u8]] = &[b"WebPush: info\0", &keys.public, server_public.as_ref()];
    let input = expand(&hkdf::Salt::new(hkdf::HKDF_SHA256, &keys.auth).extract(&shared_secret), key_info, 32)?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&input);
    let content_key = expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce: [u8; 12] = expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?.try_into().expect("twelve bytes");
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &content_key).map_err(|_| anyhow::anyhow!("no AES key"))?);
    // The only record is the last: its padding starts with 2.
    let mut record = [payload, &[2]].concat();
    key.seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::empty(), &mut record)
        .map_err(|_| anyhow::anyhow!("cannot encrypt"))?;
    let public = server_public.as_ref();
    let id_length = u8::try_from(public.len()).expect("65 bytes");
    Ok([salt.as_slice(), &RECORD_SIZE.to_be_bytes(), &[id_length], public, &record].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(endpoint: &str) -> Subscription {
        // A point on P-256 (the generator) and a secret.
        let generator = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
        Subscription {
            endpoint: endpoint.to_owned(),
            keys: SubscriptionKeys { p256dh: generator.to_owned(), auth: "AAAAAAAAAAAAAAAAAAAAAA".to_owned() },
            added_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn a_phone_subscribed_by_someone_else_is_theirs_alone_and_each_person_keeps_ten_at_most() {
        let data = tempfile::tempdir().unwrap();
        let push = Push::open(&Storage::open(data.path()).unwrap()).unwrap();
        let (tech, teacher) = (Username::parse("tech").unwrap(), Username::parse("teacher").unwrap());
        let shared_phone = phone("https://push.example/shared").checked().unwrap();
        push.subscribe(&tech, shared_phone.clone(), Timestamp::from_millis(1)).unwrap();
        push.subscribe(&teacher, shared_phone, Timestamp::from_millis(2)).unwrap();
        assert!(!push.has_any(&tech).unwrap(), "the phone is the teacher's now");
        assert_eq!(push.of(&teacher).unwrap().len(), 1);
        for n in 0..12 {
            push.subscribe(&tech, phone(&format!("https://push.example/{n}")), Timestamp::from_millis(10 + n)).unwrap();
        }
        let kept: Vec<String> = push.of(&tech).unwrap().into_iter().map(|phone| phone.endpoint).collect();
        assert_eq!(kept.len(), MAX_SUBSCRIPTIONS);
        assert!(
            !kept.contains(&"https://push.example/0".to_owned()) && kept.contains(&"https://push.example/11".to_owned()),
            "the oldest went"
        );
        assert_eq!(phone("http://push.example/x").checked(), Err(BadSubscription::Endpoint));
        let mut off_curve = phone("https://push.example/x");
        off_curve.keys.p256dh = Base64UrlUnpadded::encode_string(&[4; 65]);
        assert_eq!(off_curve.checked(), Err(BadSubscription::Keys));
    }
}
