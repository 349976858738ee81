//! Sign-in and sessions: `POST /api/login`, `GET /api/me`, `POST /api/sync-ticket`,
//! `POST /api/logout`, and the [`Session`] extractor every authenticated route takes (with
//! [`LinkSession`] where a token may come in the address).
//!
//! A token is `<payload>.<mac>`, both base64url: the payload is JSON naming the user, the
//! generation of their tokens and the expiry; the MAC is HMAC-SHA256 under a key drawn once
//! and kept in sled. A phone keeps its token for weeks and works offline meanwhile; the
//! server checks it on every request and connection, and refuses it once it expires, once
//! the user is disabled, or once the user's tokens are revoked (the generation rises), or
//! once that one token is signed out (its SHA-256 is kept in sled until it would expire).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use password_hash::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use shared::api::{LoginRequest, LoginResponse, MeResponse, MySite, SiteRole, TicketResponse, UserView};
use shared::directory::{Role, SiteId, Username};
use shared::time::Timestamp;

use crate::directory::{UserRecord, hash_password, verify_password};
use crate::kv;
use crate::reach::ClientIp;
use crate::storage::trees;
use crate::token_bucket::{Paced, Paces, Rate};
use crate::{AppError, AppState, Storage};

/// How long a token stays valid: long enough for a phone to work offline for weeks.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Signs and checks tokens.
pub struct Tokens {
    key: [u8; 32],
    /// Tokens signed out: [`TokenId`] → when the token would have expired (ms, big-endian).
    revoked: kv::Tree,
}

/// Which token a session came with: its SHA-256, which is what a sign-out keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenId([u8; 32]);

impl TokenId {
    fn of(token: &str) -> TokenId {
        TokenId(Sha256::digest(token.as_bytes()).into())
    }

    /// The token's SHA-256, to name it to another server.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> TokenId {
        TokenId(bytes)
    }
}

/// The token a session was opened with, for as long as it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub token: TokenId,
    pub expires_at: Timestamp,
}

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Username,
    /// The user's token generation when it was issued.
    pub generation: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Why a token was refused. The client only ever hears "sign in again"; the log says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not in the expected form")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was signed out")]
    SignedOut,
}

type HmacSha256 = Hmac<Sha256>;

impl Tokens {
    /// Loads the signing key from the `meta` tree, drawing and storing one on first use,
    /// and forgets signed-out tokens that have expired since.
    pub fn open(storage: &Storage) -> anyhow::Result<Tokens> {
        let meta = storage.tree(trees::META)?;
        let mut fresh = [0u8; 32];
        OsRng.fill_bytes(&mut fresh);
        // Of two processes starting at once, the first key stored wins for both.
        let _ = meta.compare_and_swap("token_key", None::<&[u8]>, Some(&fresh[..])).context("cannot store the token key")?;
        let stored = meta.get("token_key")?.context("the token key was just stored")?;
        let key: [u8; 32] = stored.as_ref().try_into().context("the stored token key is not 32 bytes")?;
        let revoked = storage.tree(trees::REVOKED_TOKENS)?;
        let now = now().as_millis();
        for entry in &revoked {
            let (token, expires_at) = entry?;
            if expires_at.as_ref().try_into().map(i64::from_be_bytes).is_ok_and(|expires_at| expires_at <= now) {
                revoked.remove(token)?;
            }
        }
        Ok(Tokens { key, revoked })
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// A token for `user`, valid from `now` for [`TOKEN_LIFETIME`].
    pub fn issue(&self, user: &UserRecord, now: Timestamp) -> (String, Claims) {
        let claims = Claims {
            sub: user.username.clone(),
            generation: user.token_generation,
            issued_at: now,
            expires_at: now.plus_millis(TOKEN_LIFETIME.as_millis() as i64),
        };
        let payload = Base64UrlUnpadded::encode_string(&serde_json::to_vec(&claims).expect("claims serialise"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes());
        (format!("{payload}.{signature}"), claims)
    }

    /// The claims of a token this server signed, that has not expired at `now` and was not
    /// signed out, with which token it is.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<(Claims, SignedIn), TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = Base64UrlUnpadded::decode_vec(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        let payload = Base64UrlUnpadded::decode_vec(payload).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.expires_at <= now {
            return Err(TokenError::Expired);
        }
        let signed_in = SignedIn { token: TokenId::of(token), expires_at: claims.expires_at };
        if self.is_signed_out(&signed_in.token) {
            return Err(TokenError::SignedOut);
        }
        Ok((claims, signed_in))
    }

    /// Refuses `token` from now on, until it would have expired anyway. Kept in sled; the
    /// caller flushes before answering.
    pub fn sign_out(&self, token: &SignedIn) -> anyhow::Result<()> {
        self.revoked.insert(token.token.0, token.expires_at.as_millis().to_be_bytes()).context("cannot keep a signed-out token")?;
        Ok(())
    }

    fn is_signed_out(&self, token: &TokenId) -> bool {
        // A read that fails refuses: a token is never taken on doubt.
        self.revoked.contains_key(token.0).unwrap_or(true)
    }
}

/// Now, by the server's clock.
pub fn now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_millis(since_epoch.as_millis() as i64)
}

/// The signed-in user of a request, from `Authorization: Bearer <token>`. The app's own
/// sync socket uses a ticket instead.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: UserRecord,
    /// The token the session came with (through a ticket, the token that asked for it).
    pub signed_in: SignedIn,
}

/// A session where a browser cannot set headers: the token may also come as
/// `?token=<token>`. Taken by the label sheet, exports and `/sync` (other automerge-repo
/// clients' sockets) only, so a token in a link opens nothing else.
#[derive(Clone, Debug)]
pub struct LinkSession(pub Session);

impl Session {
    /// The user's role at `site`.
    pub fn role_at(&self, site: &SiteId) -> Option<Role> {
        self.user.role_at(site)
    }

    /// Refuses anyone who administers no site.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.is_admin() { Ok(()) } else { Err(AppError::Forbidden("only an administrator may do this")) }
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

impl Session {
    /// The session of a user named by a token or ticket, unless they are gone, disabled,
    /// or their tokens were revoked since.
    fn of(state: &AppState, username: &Username, generation: u64, signed_in: SignedIn) -> Result<Session, AppError> {
        let user = state.directory.user(username)?.ok_or(AppError::Unauthorized)?;
        if user.disabled || user.token_generation != generation {
            tracing::info!(user = %user.username, "refused a revoked token");
            return Err(AppError::Unauthorized);
        }
        Ok(Session { user, signed_in })
    }

    /// The session of `token` (as sent, surrounding spaces allowed).
    fn of_token(state: &AppState, token: &str) -> Result<Session, AppError> {
        let (claims, signed_in) = state.tokens.verify(token.trim(), now()).map_err(|error| {
            tracing::debug!(%error, "refused a token");
            AppError::Unauthorized
        })?;
        Session::of(state, &claims.sub, claims.generation, signed_in)
    }

    /// The session a sync ticket was issued to; the ticket is used up.
    pub fn from_ticket(state: &AppState, ticket: &str) -> Result<Session, AppError> {
        let (username, generation, signed_in) = state.tickets.redeem(ticket, Instant::now()).ok_or_else(|| {
            tracing::debug!("refused an unknown, used or expired sync ticket");
            AppError::Unauthorized
        })?;
        // Signed out between asking for the ticket and using it.
        if state.tokens.is_signed_out(&signed_in.token) || signed_in.expires_at <= now() {
            return Err(AppError::Unauthorized);
        }
        Session::of(state, &username, generation, signed_in)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer "))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Session, AppError> {
        Session::of_token(state, bearer(parts).ok_or(AppError::Unauthorized)?)
    }
}

impl FromRequestParts<AppState> for LinkSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<LinkSession, AppError> {
        let token = match bearer(parts) {
            Some(token) => token.to_owned(),
            None => Query::<TokenQuery>::try_from_uri(&parts.uri).ok().and_then(|query| query.0.token).ok_or(AppError::Unauthorized)?,
        };
        Session::of_token(state, &token).map(LinkSession)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/sync-ticket", post(sync_ticket))
}

/// How long a sync ticket may wait to be used: the app asks for one just before it opens
/// the socket.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);
/// Tickets one user may hold unused; asking for more drops their oldest.
const TICKETS_PER_USER: usize = 8;

/// Single-use tickets that open one sync socket (`/sync?ticket=`), so the long-lived token
/// never travels in a URL, where logs and browsers' error lines keep it. Kept in memory:
/// a restart only makes a phone ask again.
#[derive(Default)]
pub struct SyncTickets {
    issued: Mutex<HashMap<String, Ticket>>,
}

struct Ticket {
    user: Username,
    generation: u64,
    signed_in: SignedIn,
    issued: Instant,
}

impl SyncTickets {
    /// A fresh ticket for `user`'s current token generation, asked for with `signed_in`.
    pub fn issue(&self, user: &UserRecord, signed_in: SignedIn, now: Instant) -> String {
        let mut bytes = [0u8; 24];
        OsRng.fill_bytes(&mut bytes);
        let ticket = Base64UrlUnpadded::encode_string(&bytes);
        let mut issued = self.issued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        issued.retain(|_, ticket| now.duration_since(ticket.issued) < TICKET_LIFETIME);
        let mut theirs: Vec<(Instant, String)> =
            issued.iter().filter(|(_, held)| held.user == user.username).map(|(key, held)| (held.issued, key.clone())).collect();
        if theirs.len() >= TICKETS_PER_USER {
            theirs.sort();
            for (_, key) in &theirs[..=theirs.len() - TICKETS_PER_USER] {
                issued.remove(key);
            }
        }
        issued.insert(ticket.clone(), Ticket { user: user.username.clone(), generation: user.token_generation, signed_in, issued: now });
        ticket
    }

    /// Whom `ticket` was issued to, once: a used, unknown or expired ticket is `None`.
    pub fn redeem(&self, ticket: &str, now: Instant) -> Option<(Username, u64, SignedIn)> {
        let held = self.issued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(ticket)?;
        (now.duration_since(held.issued) < TICKET_LIFETIME).then_some((held.user, held.generation, held.signed_in))
    }
}

async fn sync_ticket(State(state): State<AppState>, session: Session) -> Json<TicketResponse> {
    let ticket = state.tickets.issue(&session.user, session.signed_in, Instant::now());
    Json(TicketResponse { ticket, expires_in: TICKET_LIFETIME.as_secs() })
}

/// Signs out the token of the request: refused from now on, here and on sockets it
/// opened; the person's other phones stay signed in.
async fn logout(State(state): State<AppState>, session: Session) -> Result<StatusCode, AppError> {
    state.tokens.sign_out(&session.signed_in).map_err(AppError::Internal)?;
    state.storage.flush().await.map_err(AppError::Internal)?;
    state.sync.signed_out(session.signed_in.token);
    tracing::info!(user = %session.user.username, "signed out");
    Ok(StatusCode::NO_CONTENT)
}

impl From<&UserRecord> for UserView {
    fn from(user: &UserRecord) -> UserView {
        UserView {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            roles: user.roles.iter().map(|(site, role)| SiteRole { site: site.clone(), role: *role }).collect(),
            disabled: user.disabled,
        }
    }
}

async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    request: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LoginResponse>, AppError> {
    let Json(request) =
        request.map_err(|rejection| AppError::BadRequest(format!("expected {{\"username\", \"password\"}}: {}", rejection.body_text())))?;
    // What a client typed goes into logs and the throttle's table only as a user name could
    // be: anything else is one key, and logged cut short.
    let username = Username::parse(&request.username).ok();
    let named = username.as_ref().map(Username::as_str);
    if let Err(wait) = state.throttle.attempt(client, named, Instant::now()) {
        tracing::warn!(ip = %client, user = %loggable(&request.username), "sign-in refused: too many failures");
        return Err(AppError::TooManyRequests { retry_after: wait });
    }
    let Some(username) = username else {
        // No account can have this name, which anyone can tell from its form: refused
        // without the cost of a hash (the attempt counts).
        tracing::info!(ip = %client, user = %loggable(&request.username), "sign-in failed: not a user name");
        return Err(AppError::WrongLogin);
    };
    let user = state.directory.user(&username)?;
    let password = request.password;
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    // Each check takes 19 MiB for a moment: at most a few at once, the rest wait a little.
    let Ok(Ok(permit)) = tokio::time::timeout(HASH_WAIT, state.hashing.clone().acquire_owned()).await else {
        tracing::warn!(ip = %client, "sign-in refused: too many passwords being checked");
        state.throttle.give_back(client, Some(username.as_str()), false, Instant::now());
        return Err(AppError::Busy { retry_after: HASH_WAIT });
    };
    // An unknown user costs the same time as a wrong password, so timing names no one.
    let matches = tokio::task::spawn_blocking(move || {
        let matches = verify_password(&password, hash.as_deref().unwrap_or_else(|| decoy_hash()));
        drop(permit);
        matches
    })
    .await
    .context("the password check failed")?;
    match user {
        Some(user) if matches && !user.disabled => {
            state.throttle.give_back(client, Some(username.as_str()), true, Instant::now());
            let (token, claims) = state.tokens.issue(&user, now());
            tracing::info!(user = %user.username, "signed in");
            Ok(Json(LoginResponse { token, user: UserView::from(&user), expires_at: claims.expires_at }))
        }
        _ => {
            tracing::info!(ip = %client, user = %username, "sign-in failed");
            Err(AppError::WrongLogin)
        }
    }
}

/// The throttle's key for every attempt whose name no account could have.
const NOT_A_USER_NAME: &str = "(not a user name)";
/// How long a sign-in waits for a turn to check its password before 503.
const HASH_WAIT: Duration = Duration::from_secs(5);

/// Passwords checked at once: each argon2 check holds 19 MiB, so 400 at once took 10 GB.
pub fn hashing_permits() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get).clamp(2, 8)
}

/// Text a client sent, for a log line: its first 64 characters, escaped.
pub fn loggable(text: &str) -> String {
    let mut shown: String = text.chars().take(64).flat_map(char::escape_debug).collect();
    if text.chars().nth(64).is_some() {
        shown.push('…');
    }
    shown
}

/// A hash to check passwords of unknown users against.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("not anyone's password").expect("hashing works"))
}

async fn me(State(state): State<AppState>, session: Session) -> Result<Json<MeResponse>, AppError> {
    let mut sites = Vec::new();
    for (site, role) in &session.user.roles {
        // A role at a site since deleted shows nothing rather than failing the whole answer.
        if let Some(record) = state.directory.site(site)? {
            sites.push(MySite { id: record.id, name: record.name, role: *role, catalog: record.catalog.map(|id| id.url()) });
        }
    }
    Ok(Json(MeResponse { user: UserView::from(&session.user), sites }))
}

/// Spaces out sign-in attempts. Each attempt takes a turn from token buckets before its
/// password is checked (so a burst sent at once gets no more turns than one sent in line,
/// and a held guesser learns nothing and costs no hashing); an attempt that signs in gives
/// its turns back:
/// - per address (an IPv6 address counts by its /64): generous, as a whole office may sign
///   in through one NAT, yet it bounds one source guessing across many names;
/// - per user at an address: a few free mistakes, then one try every half minute;
/// - per account, from anywhere: guessing one account from many addresses slows to one
///   try every few seconds. Its owner waits as long, but only while someone guesses, and
///   never longer than a bucket takes to earn a turn.
pub struct LoginThrottle {
    keeping: Keeping,
}

/// Where the buckets are kept.
enum Keeping {
    /// In this process: a server of its own.
    Here(Paces<ThrottleKey>),
    /// In the database (`login_throttle`), so servers sharing it count together: an
    /// attacker spread over them gets no more guesses than against one. Each attempt is
    /// one transaction over its buckets, timed by the wall clock.
    Shared { tree: kv::Tree, attempts: std::sync::atomic::AtomicU64 },
}

/// Every this many attempts, shared buckets that have filled up again are removed.
const SWEEP_EVERY: u64 = 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ThrottleKey {
    Address(IpAddr),
    UserAt(IpAddr, String),
    Account(String),
}

impl Paced for ThrottleKey {
    fn rate(&self) -> Rate {
        match self {
            ThrottleKey::Address(_) => PER_ADDRESS,
            ThrottleKey::UserAt(..) => PER_USER,
            ThrottleKey::Account(_) => PER_ACCOUNT,
        }
    }
}

/// Thirty attempts at once, then one every two seconds.
const PER_ADDRESS: Rate = Rate { burst: 30.0, per_second: 1.0 / 2.0 };
/// Five attempts at once, then one every thirty seconds.
const PER_USER: Rate = Rate { burst: 5.0, per_second: 1.0 / 30.0 };
/// Ten attempts at once, then one every six seconds.
const PER_ACCOUNT: Rate = Rate { burst: 10.0, per_second: 1.0 / 6.0 };
/// The table's size (see [`Paces`]).
const MAX_TRACKED: usize = 10_000;

/// An address as it is counted: an IPv4-mapped IPv6 address as the IPv4 address, any
/// other IPv6 address by its /64 (what one household or phone is given).
pub fn counted_address(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

impl ThrottleKey {
    /// The bucket's key in the shared tree.
    fn stored(&self) -> String {
        match self {
            ThrottleKey::Address(address) => format!("a/{address}"),
            ThrottleKey::UserAt(address, name) => format!("u/{address}/{name}"),
            ThrottleKey::Account(name) => format!("n/{name}"),
        }
    }

    /// The rate of a bucket by its key in the shared tree.
    fn stored_rate(key: &[u8]) -> Rate {
        match key.first() {
            Some(b'a') => PER_ADDRESS,
            Some(b'u') => PER_USER,
            _ => PER_ACCOUNT,
        }
    }
}

/// A shared bucket: what is drawn from it, as of a time (milliseconds since 1970).
fn read_bucket(value: Option<&[u8]>) -> (f64, i64) {
    match value.and_then(|value| <[u8; 16]>::try_from(value).ok()) {
        Some(bytes) => {
            (f64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")), i64::from_be_bytes(bytes[8..].try_into().expect("8 bytes")))
        }
        None => (0.0, 0),
    }
}

fn write_bucket(drawn: f64, at: i64) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&drawn.to_be_bytes());
    bytes[8..].copy_from_slice(&at.to_be_bytes());
    bytes
}

/// What is drawn from a bucket at `now`, having been `drawn` at `at`.
fn drawn_at(drawn: f64, at: i64, rate: Rate, now: i64) -> f64 {
    (drawn - (now - at).max(0) as f64 / 1000.0 * rate.per_second).max(0.0)
}

impl LoginThrottle {
    pub fn new() -> LoginThrottle {
        LoginThrottle { keeping: Keeping::Here(Paces::new(MAX_TRACKED)) }
    }

    /// The throttle for a server on `storage`: shared with the other servers when they
    /// share the database, else this process's own.
    pub fn for_storage(storage: &Storage) -> anyhow::Result<LoginThrottle> {
        if !storage.is_shared() {
            return Ok(LoginThrottle::new());
        }
        let tree = storage.tree(trees::LOGIN_THROTTLE)?;
        Ok(LoginThrottle { keeping: Keeping::Shared { tree, attempts: std::sync::atomic::AtomicU64::new(0) } })
    }

    /// The buckets an attempt draws on; a name no account could have has no account.
    fn keys(address: IpAddr, username: Option<&str>) -> Vec<ThrottleKey> {
        let address = counted_address(address);
        let name = username.unwrap_or(NOT_A_USER_NAME).to_owned();
        let mut keys = vec![ThrottleKey::Address(address), ThrottleKey::UserAt(address, name)];
        if let Some(username) = username {
            keys.push(ThrottleKey::Account(username.to_owned()));
        }
        keys
    }

    /// Takes a turn at `now` for an attempt to sign in as `username` (`None`: not a user
    /// name) from `address`, or says how long to wait for one. Checked and taken under one
    /// lock, from every bucket or from none.
    pub fn attempt(&self, address: IpAddr, username: Option<&str>, now: Instant) -> Result<(), Duration> {
        let keys = Self::keys(address, username);
        let (tree, attempts) = match &self.keeping {
            Keeping::Here(paces) => return paces.attempt(&keys, now),
            Keeping::Shared { tree, attempts } => (tree, attempts),
        };
        if attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sweep(tree);
        }
        let now = self::now().as_millis();
        let taken = kv::transaction([tree], |[buckets]| {
            let mut wait: Option<f64> = None;
            let mut drawn = Vec::with_capacity(keys.len());
            for key in &keys {
                let (was, at) = read_bucket(buckets.get(key.stored())?.as_deref());
                let rate = key.rate();
                let now_drawn = drawn_at(was, at, rate, now);
                let short = 1.0 - (rate.burst - now_drawn);
                if short > 0.0 {
                    wait = Some(wait.unwrap_or(0.0).max(short / rate.per_second));
                }
                drawn.push(now_drawn);
            }
            if let Some(wait) = wait {
                return Ok(Err(Duration::from_secs_f64(wait)));
            }
            for (key, drawn) in keys.iter().zip(drawn) {
                buckets.insert(key.stored(), write_bucket(drawn + 1.0, now))?;
            }
            Ok(Ok(()))
        });
        taken.unwrap_or_else(|error| {
            // A store that cannot be asked lets nobody guess: wait and try again.
            tracing::error!(error = format!("{error:#}"), "cannot count a sign-in attempt; refusing it");
            Err(Duration::from_secs(1))
        })
    }

    /// An attempt that was no guess after all gives its turns back: the password was right
    /// (which also forgives that user's earlier mistakes at this address), or it was never
    /// checked.
    pub fn give_back(&self, address: IpAddr, username: Option<&str>, signed_in: bool, now: Instant) {
        let keys = Self::keys(address, username);
        match &self.keeping {
            Keeping::Here(paces) => {
                for key in keys {
                    if signed_in && matches!(key, ThrottleKey::UserAt(..)) {
                        paces.forget(&key);
                    } else {
                        paces.give_back(&key, now);
                    }
                }
            }
            Keeping::Shared { tree, .. } => {
                let now = self::now().as_millis();
                let given = kv::transaction([tree], |[buckets]| {
                    for key in &keys {
                        if signed_in && matches!(key, ThrottleKey::UserAt(..)) {
                            buckets.remove(key.stored())?;
                        } else if let Some(value) = buckets.get(key.stored())? {
                            let (drawn, at) = read_bucket(Some(&value));
                            let drawn = (drawn_at(drawn, at, key.rate(), now) - 1.0).max(0.0);
                            buckets.insert(key.stored(), write_bucket(drawn, now))?;
                        }
                    }
                    Ok(())
                });
                if let Err(error) = given {
                    tracing::warn!(error = format!("{error:#}"), "cannot give a sign-in attempt back");
                }
            }
        }
    }
}

/// Removes shared buckets that have filled up again (a full bucket is the same as none).
fn sweep(tree: &kv::Tree) {
    let now = now().as_millis();
    let full: Vec<kv::Value> = tree
        .iter()
        .filter_map(Result::ok)
        .filter(|(key, value)| {
            let (drawn, at) = read_bucket(Some(value));
            drawn_at(drawn, at, ThrottleKey::stored_rate(key), now) <= 0.0
        })
        .map(|(key, _)| key)
        .collect();
    for key in full {
        let _ = tree.remove(key);
    }
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRecord {
        UserRecord {
            username: Username::parse("inspector").unwrap(),
            display_name: "李".to_owned(),
            password_hash: String::new(),
            roles: Vec::new(),
            disabled: false,
            token_generation: 3,
        }
    }

    #[test]
    fn what_a_client_typed_is_logged_short_and_escaped() {
        assert_eq!(loggable("inspector"), "inspector");
        assert_eq!(loggable("a\nb"), "a\\nb", "no forged log lines");
        assert_eq!(loggable(&"x".repeat(2_000_000)), format!("{}…", "x".repeat(64)));
    }

    fn signed_in() -> SignedIn {
        SignedIn { token: TokenId::of("a token"), expires_at: Timestamp::from_millis(1_800_000_000_000) }
    }

    #[test]
    fn a_sync_ticket_opens_once_and_only_while_fresh() {
        let tickets = SyncTickets::default();
        let start = Instant::now();
        let ticket = tickets.issue(&user(), signed_in(), start);
        assert_eq!(tickets.redeem(&ticket, start), Some((user().username, 3, signed_in())));
        assert_eq!(tickets.redeem(&ticket, start), None, "used");
        let late = tickets.issue(&user(), signed_in(), start);
        assert_eq!(tickets.redeem(&late, start + TICKET_LIFETIME), None, "expired");
        assert_eq!(tickets.redeem("made-up", start), None);
        let many: Vec<String> =
            (0..TICKETS_PER_USER as u64 + 2).map(|n| tickets.issue(&user(), signed_in(), start + Duration::from_millis(n))).collect();
        assert_eq!(tickets.issued.lock().unwrap().len(), TICKETS_PER_USER, "one user's unused tickets are bounded");
        assert_eq!(tickets.redeem(&many[1], start), None, "the oldest gave way");
        assert!(tickets.redeem(&many[2], start).is_some());
        assert!(tickets.redeem(many.last().unwrap(), start).is_some());
    }

    #[test]
    fn tokens_are_refused_when_forged_tampered_expired_or_signed_out() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let tokens = Tokens::open(&storage).unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let (token, claims) = tokens.issue(&user(), now);
        let checked = |tokens: &Tokens, at: Timestamp| tokens.verify(&token, at).map(|(claims, _)| claims);
        assert_eq!(checked(&tokens, now), Ok(claims.clone()));
        assert_eq!(claims.generation, 3);
        assert_eq!(checked(&Tokens::open(&storage).unwrap(), now), Ok(claims.clone()), "the key is kept");

        let expiry = claims.expires_at;
        assert_eq!(checked(&tokens, expiry.plus_millis(-1)), Ok(claims.clone()));
        assert_eq!(checked(&tokens, expiry), Err(TokenError::Expired));

        let other = Tokens { key: [7; 32], revoked: storage.tree(trees::REVOKED_TOKENS).unwrap() };
        assert_eq!(other.verify(&token, now).map(|(claims, _)| claims), Err(TokenError::BadSignature), "signed under another key");

        let (payload, signature) = token.split_once('.').unwrap();
        let mut forged: serde_json::Value = serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
        forged["sub"] = "admin".into();
        let tampered = format!("{}.{signature}", Base64UrlUnpadded::encode_string(forged.to_string().as_bytes()));
        assert_eq!(tokens.verify(&tampered, now).map(|(claims, _)| claims), Err(TokenError::BadSignature));
        for malformed in ["", "abc", "a.b.c", "!!.??", &format!("{payload}.")] {
            assert!(tokens.verify(malformed, now).is_err(), "{malformed:?}");
        }

        // Signed out: refused, also after a restart; another token of the same user is not.
        let (_, session) = tokens.verify(&token, now).unwrap();
        let (second, _) = tokens.issue(&user(), now.plus_millis(1));
        tokens.sign_out(&session).unwrap();
        assert_eq!(checked(&tokens, now), Err(TokenError::SignedOut));
        assert_eq!(checked(&Tokens::open(&storage).unwrap(), now), Err(TokenError::SignedOut), "kept");
        assert!(tokens.verify(&second, now).is_ok());
        // Once it would have expired, the sign-out is forgotten at the next start.
        let revoked = storage.tree(trees::REVOKED_TOKENS).unwrap();
        revoked.insert(session.token.0, 0i64.to_be_bytes()).unwrap();
        Tokens::open(&storage).unwrap();
        assert!(revoked.is_empty(), "expired sign-outs are dropped");
    }

    #[test]
    fn sign_in_attempts_are_spaced_out_per_user_per_address_and_per_account() {
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        let (phone, other_phone) = ("10.0.0.7".parse().unwrap(), "10.0.0.8".parse().unwrap());
        for _ in 0..PER_USER.burst as usize {
            assert_eq!(throttle.attempt(phone, Some("manager"), now), Ok(()));
        }
        let wait = throttle.attempt(phone, Some("manager"), now).expect_err("held after five failures");
        assert_eq!(wait, Duration::from_secs(30), "one try every half minute");
        assert!(throttle.attempt(phone, Some("manager"), now + wait / 2).is_err());
        assert_eq!(throttle.attempt(other_phone, Some("manager"), now), Ok(()), "another address is not held");
        assert_eq!(throttle.attempt(phone, Some("inspector"), now), Ok(()), "another user is not held");
        throttle.give_back(phone, Some("manager"), true, now);
        assert_eq!(throttle.attempt(phone, Some("manager"), now), Ok(()), "signing in forgives");
        for _ in 1..PER_USER.burst as usize {
            throttle.attempt(phone, Some("manager"), now).unwrap();
        }
        assert!(throttle.attempt(phone, Some("manager"), now).is_err());
        assert_eq!(throttle.attempt(phone, Some("manager"), now + wait), Ok(()), "a turn is earned back after the wait it named");

        // One address guessing many names.
        let guesser: IpAddr = "10.0.0.9".parse().unwrap();
        let allowed = (0..100).filter(|name| throttle.attempt(guesser, Some(&format!("guess{name}")), now).is_ok()).count();
        assert_eq!(allowed, PER_ADDRESS.burst as usize);
        // Many addresses guessing one account.
        let allowed = (0..100).filter(|host| throttle.attempt(IpAddr::from([10, 1, 0, *host]), Some("store"), now).is_ok()).count();
        assert_eq!(allowed, PER_ACCOUNT.burst as usize);
        // A whole IPv6 /64 is one address.
        let allowed = (0..100u16)
            .filter(|host| throttle.attempt(IpAddr::from([0xfd00, 0, 0, 1, 0, 0, 0, *host]), Some(&format!("v6-{host}")), now).is_ok())
            .count();
        assert_eq!(allowed, PER_ADDRESS.burst as usize);
    }

    #[test]
    fn a_burst_at_once_gets_no_more_turns_than_one_in_line() {
        let throttle = std::sync::Arc::new(LoginThrottle::new());
        let phone: IpAddr = "10.0.0.7".parse().unwrap();
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || throttle.attempt(phone, Some("manager"), Instant::now()).is_ok())
            })
            .collect();
        let allowed = threads.into_iter().map(|thread| thread.join().unwrap()).filter(|allowed| *allowed).count();
        assert_eq!(allowed, PER_USER.burst as usize);
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_those_held() {
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        let guesser: IpAddr = "10.9.9.9".parse().unwrap();
        for _ in 0..PER_USER.burst as usize {
            throttle.attempt(guesser, Some("manager"), now).unwrap();
        }
        for host in 0..(3 * MAX_TRACKED as u32) {
            let _ = throttle.attempt(IpAddr::from((0x0b00_0000 + host).to_be_bytes()), None, now);
        }
        let Keeping::Here(paces) = &throttle.keeping else { panic!("a throttle of this process") };
        assert!(paces.tracked() <= MAX_TRACKED);
        assert!(throttle.attempt(guesser, Some("manager"), now).is_err(), "a held guesser stays held");
    }
}
