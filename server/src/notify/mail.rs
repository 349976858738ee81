//! Mail: notices to the address a person gave in Settings, through the organisation's
//! mail server over SMTP (`--smtp-url`, from the environment: it carries the password).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use shared::language::Language;
use shared::notice::{Message, Notice};

/// Why a mail did not go: worth another try later, or not (the mail server refused it
/// for good).
#[derive(Debug)]
pub struct MailError {
    pub error: String,
    pub permanent: bool,
}

/// The mail server and the sender notices come from; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the password.
        formatter.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `url` — `smtps://user:password@host:465` (TLS), `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (plain, for a relay on the same machine) — sending as `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| anyhow::anyhow!("--smtp-url is not an smtp:// or smtps:// address: {error}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(|error| anyhow::anyhow!("--mail-from {from:?} is not a mail address: {error}"))?;
        Ok(Mailer { transport, from })
    }

    /// Mails `notice` to `to` in `language`, with `place` named and `link` to open it.
    pub async fn send(&self, to: &str, notice: &Notice, language: Language, place: &str, link: &str) -> Result<(), MailError> {
        let refused = |error: String| MailError { error, permanent: true };
        let to: Mailbox = to.parse().map_err(|error| refused(format!("{to:?} is not a mail address: {error}")))?;
        let Message { heading, body } = notice.message(language, place);
        let (open, footer) = match language {
            Language::Chinese => ("打开", "这是后勤系统的通知；在“设置 → 通知”中可以更改收到哪些、怎样收到。"),
            Language::English => ("Open", "A notice from Houqin; choose which notices come and how in Settings → Notices."),
        };
        let separator = if language == Language::Chinese { "：" } else { ": " };
        let text = format!("{body}\n\n{open}{separator}{link}\n\n-- \n{footer}\n");
        // One Message-ID per notice: a mail seen twice (a restart between the server's
        // answer and its record) is one mail to whoever reads it.
        let host = self.from.email.domain().to_owned();
        let id = notice.id().replace('/', ".");
        let mail = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("{heading}{separator}{}", notice.title))
            .message_id(Some(format!("<{id}@{host}>")))
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|error| refused(format!("cannot write the mail: {error}")))?;
        self.transport
            .send(mail)
            .await
            .map(|_| ())
            .map_err(|error| MailError { permanent: error.is_permanent(), error: format!("the mail server: {error}") })
    }
}

/// Whether `address` is a mail address the server can send to.
pub fn is_address(address: &str) -> bool {
    address.len() <= 254 && address.parse::<lettre::Address>().is_ok()
}
