//! Reports from people without an account (扫码报修): what a label's public page sends,
//! the checks it must pass, and the plain words a reporter follows the repair in. The
//! server and its public pages agree on these; the app shows who made such an order by
//! [`PUBLIC_REPORTER`].

use serde::{Deserialize, Serialize};

use crate::document::catalog::PlaceKind;
use crate::document::work_order::{Priority, Status};
use crate::language::Language;

/// The user name a public report is made under (its order's `created_by`, and the events
/// its tracking link records): no account may have it.
pub const PUBLIC_REPORTER: &str = "public";

/// The reason a manager's cancellation gives for a public report that was spam.
pub const SPAM: &str = "spam";

/// The most characters of what is wrong.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most characters of the reporter's name.
pub const MAX_NAME_CHARS: usize = 40;
/// The most characters of the reporter's phone number.
pub const MAX_PHONE_CHARS: usize = 20;
/// The most bytes of the photo, after the page has shrunk it (to about 1280 px, some
/// 200 KB as JPEG).
pub const MAX_PHOTO_BYTES: usize = 1 << 20;
/// The most characters of a rating's comment or of why the repair did not fix it.
pub const MAX_FEEDBACK_CHARS: usize = 500;
/// The characters of an order's title taken from the start of what is wrong.
const TITLE_CHARS: usize = 30;

/// Whether a site takes reports from the public, and from labels of which kinds of place
/// (an asset's label counts as its place's kind). Closed until an administrator opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicReporting {
    pub open: bool,
    pub kinds: Vec<PlaceKind>,
}

impl Default for PublicReporting {
    fn default() -> PublicReporting {
        PublicReporting { open: false, kinds: PlaceKind::ALL.to_vec() }
    }
}

impl PublicReporting {
    /// Whether a label on a place of `kind` takes reports.
    pub fn allows(&self, kind: PlaceKind) -> bool {
        self.open && self.kinds.contains(&kind)
    }
}

crate::document::text_enum! {
    /// How urgent the reporter says it is, in their words rather than the department's.
    pub enum Urgency as "urgency" {
        /// It can wait a few days.
        CanWait = "can_wait",
        /// It stops people using the place.
        Soon = "soon",
        /// Someone could get hurt: water, electricity, smoke, a broken lock at night.
        Danger = "danger",
    }
}

impl Urgency {
    /// The order's priority.
    pub const fn priority(self) -> Priority {
        match self {
            Urgency::CanWait => Priority::Normal,
            Urgency::Soon => Priority::High,
            Urgency::Danger => Priority::Urgent,
        }
    }
}

/// What a label's public page sends: `POST /api/public/reports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicReport {
    /// The label's code, as in its address `/l/<code>`.
    pub code: String,
    /// What is wrong.
    pub text: String,
    pub urgency: Urgency,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    /// The photo, base64: a JPEG, PNG or WebP the page shrank.
    #[serde(default)]
    pub photo: Option<String>,
    /// A field people never see and never fill: filled, it was a robot.
    #[serde(default)]
    pub website: String,
    /// Sent again after "already reported": the reporter says theirs is another fault.
    #[serde(default)]
    pub anyway: bool,
    /// The language the page was read in.
    #[serde(default)]
    pub language: Option<Language>,
}

/// What is wrong with a report, as a code the page words in its language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportProblem {
    /// Nothing said about what is wrong.
    NoText,
    TextTooLong,
    NameTooLong,
    /// Not a phone number: digits, spaces, `+` and `-` only, at most [`MAX_PHONE_CHARS`].
    BadPhone,
}

impl ReportProblem {
    pub const fn code(self) -> &'static str {
        match self {
            ReportProblem::NoText => "text_missing",
            ReportProblem::TextTooLong => "text_too_long",
            ReportProblem::NameTooLong => "name_too_long",
            ReportProblem::BadPhone => "phone_invalid",
        }
    }

    /// In English, for logs and other clients (the page words the code itself).
    pub const fn message(self) -> &'static str {
        match self {
            ReportProblem::NoText => "say what is wrong",
            ReportProblem::TextTooLong => "what is wrong takes at most 500 characters",
            ReportProblem::NameTooLong => "a name takes at most 40 characters",
            ReportProblem::BadPhone => "a phone number has at most 20 digits, spaces, + and -",
        }
    }
}

impl PublicReport {
    /// Checks what a person typed (the photo is checked by the server, which decodes it).
    pub fn check(&self) -> Result<(), ReportProblem> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err(ReportProblem::NoText);
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ReportProblem::TextTooLong);
        }
        if self.name.trim().chars().count() > MAX_NAME_CHARS {
            return Err(ReportProblem::NameTooLong);
        }
        let phone = self.phone.trim();
        if phone.chars().count() > MAX_PHONE_CHARS || !phone.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-')) {
            return Err(ReportProblem::BadPhone);
        }
        Ok(())
    }

    /// The order's title: the first line of what is wrong, cut at [`TITLE_CHARS`].
    pub fn title(&self) -> String {
        let first = self.text.trim().lines().next().unwrap_or_default().trim();
        if first.chars().count() <= TITLE_CHARS {
            return first.to_owned();
        }
        let mut title: String = first.chars().take(TITLE_CHARS - 1).collect();
        title.push('…');
        title
    }
}

/// The answer to a report taken: where the reporter follows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    /// The tracking page's path, `/t/<token>`.
    pub track: String,
}

/// What a reporter says of a repair done, from the tracking page:
/// `POST /api/public/track/{token}`. Either a rating or `not_fixed` (with why).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    #[serde(default)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub not_fixed: bool,
}

/// Where a repair stands, in the words a reporter follows it by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reported; nobody has taken it yet.
    Received,
    /// A technician has it.
    Assigned,
    /// Being repaired.
    Working,
    /// Started and paused (waiting for parts, access).
    Waiting,
    /// Repaired: the reporter may rate it or say it is not fixed.
    Done,
    /// Repaired and confirmed.
    Closed,
    /// Said not fixed; back with the department.
    Reopened,
    /// Withdrawn, merged into another report, or not a fault.
    Cancelled,
}

impl Stage {
    pub const fn of(status: Status) -> Stage {
        match status {
            Status::Reported => Stage::Received,
            Status::Assigned | Status::Acknowledged => Stage::Assigned,
            Status::InProgress => Stage::Working,
            Status::Paused => Stage::Waiting,
            Status::Completed => Stage::Done,
            Status::Verified => Stage::Closed,
            Status::Reopened => Stage::Reopened,
            Status::Cancelled => Stage::Cancelled,
        }
    }

    /// The stage in the reader's language: a heading and a sentence.
    pub const fn words(self, language: Language) -> (&'static str, &'static str) {
        match (language, self) {
            (Language::Chinese, Stage::Received) => ("已收到", "后勤部已收到您的报修，正在安排维修人员。"),
            (Language::Chinese, Stage::Assigned) => ("已派工", "维修师傅已接单，会尽快到场。"),
            (Language::Chinese, Stage::Working) => ("维修中", "维修师傅正在处理。"),
            (Language::Chinese, Stage::Waiting) => ("暂停中", "维修暂时停下（例如等配件），会继续处理。"),
            (Language::Chinese, Stage::Done) => ("已修好", "维修已完成。请确认是否修好，并为这次维修打分。"),
            (Language::Chinese, Stage::Closed) => ("已完结", "维修已完成并确认。谢谢您的反馈！"),
            (Language::Chinese, Stage::Reopened) => ("重新处理", "您反映还没有修好，后勤部会重新安排维修。"),
            (Language::Chinese, Stage::Cancelled) => ("已关闭", "这条报修已关闭（可能已合并到同一故障的报修）。如仍有问题，请重新报修。"),
            (Language::English, Stage::Received) => ("Received", "The logistics office has your report and is finding a technician."),
            (Language::English, Stage::Assigned) => ("Assigned", "A technician has taken the job and will come soon."),
            (Language::English, Stage::Working) => ("Being repaired", "A technician is working on it."),
            (Language::English, Stage::Waiting) => ("On hold", "The repair is paused (waiting for parts, for example) and will go on."),
            (Language::English, Stage::Done) => ("Repaired", "The repair is done. Please say whether it is fixed, and rate it."),
            (Language::English, Stage::Closed) => ("Closed", "The repair is done and confirmed. Thank you for telling us."),
            (Language::English, Stage::Reopened) => {
                ("Back in the queue", "You said it is not fixed: the logistics office will send someone again.")
            }
            (Language::English, Stage::Cancelled) => (
                "Closed",
                "This report was closed (perhaps joined to another report of the same fault). If it is still wrong, please report again.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> PublicReport {
        PublicReport {
            code: "HQ-A-101".to_owned(),
            text: text.to_owned(),
            urgency: Urgency::Soon,
            name: String::new(),
            phone: String::new(),
            photo: None,
            website: String::new(),
            anyway: false,
            language: None,
        }
    }

    #[test]
    fn what_a_reporter_types_is_checked_and_titled() {
        assert_eq!(report("  ").check(), Err(ReportProblem::NoText));
        assert_eq!(report(&"漏".repeat(MAX_TEXT_CHARS + 1)).check(), Err(ReportProblem::TextTooLong));
        assert_eq!(report(&"漏".repeat(MAX_TEXT_CHARS)).check(), Ok(()), "characters, not bytes");
        let mut named = report("灯不亮");
        named.phone = "+86 138-0000-0000".to_owned();
        assert_eq!(named.check(), Ok(()));
        named.phone = "call me".to_owned();
        assert_eq!(named.check(), Err(ReportProblem::BadPhone));
        named.phone = String::new();
        named.name = "张".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(named.check(), Err(ReportProblem::NameTooLong));

        // The English words name the limits in force.
        assert!(ReportProblem::TextTooLong.message().contains(&MAX_TEXT_CHARS.to_string()));
        assert!(ReportProblem::NameTooLong.message().contains(&MAX_NAME_CHARS.to_string()));
        assert!(ReportProblem::BadPhone.message().contains(&MAX_PHONE_CHARS.to_string()));

        assert_eq!(report("  水管漏水\n地上全是水").title(), "水管漏水");
        let long = report(&"很长的描述".repeat(10)).title();
        assert_eq!(long.chars().count(), TITLE_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn every_status_has_plain_words_in_both_languages() {
        for status in Status::ALL {
            let stage = Stage::of(status);
            for language in [Language::Chinese, Language::English] {
                let (heading, sentence) = stage.words(language);
                assert!(!heading.is_empty() && !sentence.is_empty());
            }
        }
        assert_eq!(Stage::of(Status::Completed), Stage::Done, "the stage a rating is asked in");
    }

    #[test]
    fn reporting_is_closed_until_opened_and_then_by_kind() {
        let mut reporting = PublicReporting::default();
        assert!(!reporting.allows(PlaceKind::Room));
        reporting.open = true;
        assert!(reporting.allows(PlaceKind::Room));
        reporting.kinds = vec![PlaceKind::Room];
        assert!(!reporting.allows(PlaceKind::Area));
        assert_eq!(Urgency::Danger.priority(), Priority::Urgent);
    }
}
