//! The JSON API's requests and answers, as the server writes them and the app reads them:
//! one definition of each, so a field renamed on one side fails to compile on the other.
//!
//! Requests carry names as typed (`String`): the server parses them at its edge and says
//! which field is wrong. Answers carry the parsed types (`SiteId`, `Role`, `Timestamp`).
//! Query parameters (`?from=&to=`) are not here: they are URL text, parsed by each handler.

use serde::{Deserialize, Serialize};

use crate::cost::CostReport;
use crate::directory::{Role, SiteId, Username};
use crate::document::DocumentType;
pub use crate::health::Health;
use crate::kpi::Kpis;
use crate::time::Timestamp;

/// The body of every refusal (`4xx`, `5xx`), `{"code":…,"error":…}` in that order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The refusal's stable code (`wrong_login`, `exists`, `too_large`…), which the app
    /// turns into the reader's language. Absent from servers older than the codes.
    #[serde(default)]
    pub code: String,
    /// What went wrong, in English, for logs and for a code the reader's app does not know.
    pub error: String,
}

/// `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The answer to [`LoginRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The bearer token for the API (and, through a ticket, the sync socket).
    pub token: String,
    pub user: UserView,
    pub expires_at: Timestamp,
}

/// A user as the API shows them: never the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserView {
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<SiteRole>,
    pub disabled: bool,
}

/// A role at a site.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SiteRole {
    pub site: SiteId,
    pub role: Role,
}

/// `GET /api/me`: who the token's owner is and where they work now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    pub user: UserView,
    pub sites: Vec<MySite>,
}

/// A site the user works at, with their role there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySite {
    pub id: SiteId,
    pub name: String,
    pub role: Role,
    /// `automerge:<id>` of the site's catalog; `null` before one exists.
    pub catalog: Option<String>,
}

/// `POST /api/sync-ticket`: a single-use ticket that opens one sync socket
/// (`/sync?ticket=`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketResponse {
    pub ticket: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// Someone who works at a site, as `GET /api/sites/{site}/people` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
}

/// One change of a document, as `GET /api/documents/{id}/history` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The change's hash (hex), to read what it did from a copy of the document.
    #[serde(default)]
    pub hash: String,
    /// The Automerge actor (hex): the app install the change came from.
    #[serde(default)]
    pub actor: String,
    /// The person the actor is bound to.
    pub user: Option<Username>,
    /// The person the change's message names (what the device said).
    pub named: Option<String>,
    /// By the device's clock.
    pub at: Timestamp,
    pub summary: String,
    /// (Kept copies made before phones read this have none.)
    #[serde(default)]
    pub operations: u64,
}

/// A person as administrators see them (`GET /api/admin/users`): their roles, whether they
/// may sign in, when they last synced and the devices (Automerge actors) bound to them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonView {
    #[serde(flatten)]
    pub user: UserView,
    /// Milliseconds since the epoch.
    pub last_sync: Option<i64>,
    /// Actor ids (hex), one per app install they signed in on.
    pub devices: Vec<String>,
}

/// `POST /api/admin/users/{username}/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPassword {
    pub password: String,
}

/// `PUT /api/admin/users/{username}/roles`: the person's roles at the sites the
/// administrator runs, replacing those they had there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub roles: Vec<NewRole>,
}

/// `POST /api/admin/sites`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSite {
    pub id: String,
    pub name: String,
}

/// `POST /api/admin/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub roles: Vec<NewRole>,
}

/// A role to give, as typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRole {
    pub site: String,
    pub role: String,
}

impl From<&SiteRole> for NewRole {
    fn from(role: &SiteRole) -> NewRole {
        NewRole { site: role.site.to_string(), role: role.role.as_str().to_owned() }
    }
}

/// `GET /api/admin/backup`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStatus {
    pub last_backup: Option<LastBackup>,
}

/// The last backup the server knows of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBackup {
    /// When it was finished, in milliseconds since the epoch.
    pub at: i64,
    pub bytes: u64,
    pub documents: u64,
    pub blobs: u64,
    /// How it was made (`backup`, `schedule`…).
    pub by: String,
}

/// `GET /api/sites/{site}/summary`: the site's figures over a period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub site: SiteId,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The time overdue is judged at.
    pub now: Timestamp,
    pub kpis: Kpis,
    /// What repairs and supplies cost; only for those who keep the store or manage.
    #[serde(default)]
    pub costs: Option<CostReport>,
    /// What the site's counting-up meters used, against a year before.
    #[serde(default)]
    pub energy: crate::meter::Energy,
}

/// `GET /api/sites/{site}/documents`: a page of a list, newest change first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentList {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub documents: Vec<ListedDocument>,
}

/// One document of a [`DocumentList`]: what its projection (`shared::projection`) shows
/// in a list, without the type's own summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedDocument {
    /// The document's id (its `automerge:` URL without the prefix).
    pub document: String,
    #[serde(rename = "type")]
    pub document_type: DocumentType,
    pub title: String,
    /// As the document's type spells it (`in_progress`, `submitted`, `counting`…).
    pub status: String,
    pub location: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `GET /api/documents/{id}/conflicts`: a field that concurrent changes set differently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownConflict {
    pub path: Vec<String>,
    pub values: Vec<ShownValue>,
}

/// One of a field's concurrent values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownValue {
    pub id: String,
    /// The value in words (a map's fields as `key: value` lines).
    pub value: String,
    pub actor: String,
    /// The person the change's actor is bound to.
    pub user: Option<String>,
    /// The name the device wrote into the change.
    pub named: Option<String>,
    pub at: Timestamp,
}

/// Where a site's notices go, as `PUT /api/admin/sites/{site}/channels` sets it and the
/// server keeps it; a channel left out or `null` is not used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteChannels {
    #[serde(default)]
    pub webhook: Option<WebhookSettings>,
    #[serde(default)]
    pub wecom: Option<RobotSettings>,
    #[serde(default)]
    pub dingtalk: Option<RobotSettings>,
    #[serde(default)]
    pub feishu: Option<RobotSettings>,
    /// When an overdue order is told to the site's managers and administrators;
    /// `Escalation::DEFAULT` when not set.
    #[serde(default)]
    pub escalation: Option<crate::notice::Escalation>,
    /// In a request only: the channels whose secret stays as set before (the request's is
    /// left empty), since a secret is never shown again to be sent back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_secrets: Vec<crate::notice::Channel>,
}

impl SiteChannels {
    /// The channels set, in a fixed order.
    pub fn channels(&self) -> Vec<crate::notice::Channel> {
        use crate::notice::Channel;
        let set = [
            (self.webhook.is_some(), Channel::Webhook),
            (self.wecom.is_some(), Channel::WeCom),
            (self.dingtalk.is_some(), Channel::DingTalk),
            (self.feishu.is_some(), Channel::Feishu),
        ];
        set.into_iter().filter(|(set, _)| *set).map(|(_, channel)| channel).collect()
    }
}

/// A chat group's robot as an administrator sets it: the webhook address its tool gave, and
/// for DingTalk and Feishu the signing secret, if the robot has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotSettings {
    pub url: String,
    #[serde(default)]
    pub secret: Option<String>,
}

/// A generic JSON webhook as an administrator sets it: its address and the secret its
/// notices are signed with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: String,
}

/// `GET /api/admin/sites/{site}/channels`: the site's channels, secrets left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub webhook: Option<WebhookView>,
    pub wecom: Option<RobotView>,
    pub dingtalk: Option<RobotView>,
    pub feishu: Option<RobotView>,
    /// The escalation in force (the default when none was set).
    pub escalation: crate::notice::Escalation,
}

/// A robot as set: its address, and whether it signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotView {
    pub url: String,
    pub signed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub url: String,
}

/// `GET /api/me/notices` and the answer to every change of them: the person's settings,
/// the server's Web Push key (`applicationServerKey`), how many of their phones take
/// notifications, and whether the server sends mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSettingsView {
    pub settings: crate::notice::NoticeSettings,
    pub push_key: String,
    pub phones: usize,
    pub mail: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_back_as_written() {
        let site = SiteId::parse("hq").unwrap();
        let me = MeResponse {
            user: UserView {
                username: Username::parse("store").unwrap(),
                display_name: "王库管".to_owned(),
                roles: vec![SiteRole { site: site.clone(), role: Role::Storekeeper }],
                disabled: false,
            },
            sites: vec![MySite { id: site, name: "总部".to_owned(), role: Role::Storekeeper, catalog: None }],
        };
        let json = serde_json::to_value(&me).unwrap();
        assert_eq!(json["sites"][0]["role"], "storekeeper");
        assert_eq!(serde_json::from_value::<MeResponse>(json).unwrap(), me);
    }

    #[test]
    fn an_administrators_view_keeps_the_users_fields_at_the_top() {
        let person = PersonView {
            user: UserView {
                username: Username::parse("tech").unwrap(), display_name: "李师傅".to_owned(), roles: vec![], disabled: true
            },
            last_sync: Some(1_790_000_000_000),
            devices: vec!["ab12".to_owned()],
        };
        let json = serde_json::to_value(&person).unwrap();
        assert_eq!(json["username"], "tech");
        assert_eq!(json["disabled"], true);
        assert_eq!(serde_json::from_value::<PersonView>(json).unwrap(), person);
    }

    #[test]
    fn a_refusal_from_a_server_without_codes_reads_with_an_empty_code() {
        let body: ErrorBody = serde_json::from_str(r#"{"error":"not found"}"#).unwrap();
        assert_eq!(body, ErrorBody { code: String::new(), error: "not found".to_owned() });
    }
}

/// `POST /api/documents/{id}/contractor-link`: where the contractor an order is given to
/// works it, without an account (`/c/<token>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractorLink {
    pub path: String,
}
