//! A site's notifications on its administration page: where its notices go, when overdue
//! orders escalate, and what became of the latest notices — delivered, being retried, or
//! given up — read from the server (it needs a connection).

use leptos::prelude::*;
use shared::notice::{Channel, Delivery, OutboxEntry};
use shared::time::Span;

use super::texts::{AdminTexts, use_admin_texts};
use crate::error::AppError;
use crate::i18n::CurrentLanguage;
use crate::server::{display_name, use_site_people};
use crate::session::use_session;

/// How many of the site's latest notices the log shows.
const LOG_ROWS: usize = 20;

/// A notice's outcome in words, and its class: delivered through every channel, retried,
/// given up, or never sent (no channel when it was derived).
fn outcome(texts: &AdminTexts, entry: &OutboxEntry) -> (String, &'static str) {
    let deliveries: Vec<(&Channel, &Delivery)> = entry.deliveries.iter().collect();
    if deliveries.is_empty() {
        return (texts.not_sent.to_owned(), "muted");
    }
    if let Some((channel, delivery)) = deliveries.iter().find(|(_, delivery)| delivery.given_up) {
        let error = format!("{} · {}", texts.channel(**channel), delivery.last_error.clone().unwrap_or_default());
        return (texts.given_up.replace("{}", &error), "error");
    }
    if let Some((channel, delivery)) = deliveries.iter().find(|(_, delivery)| !delivery.is_done()) {
        let error = format!("{} · {}", texts.channel(**channel), delivery.last_error.clone().unwrap_or_default());
        return (texts.retrying.replace("{}", &error), "warning");
    }
    (texts.delivered.to_owned(), "ok")
}

/// Hours in a span, as people write them (1, 4, 0.5).
fn hours(span: Span) -> String {
    let hours = span.as_millis() as f64 / Span::HOUR.as_millis() as f64;
    format!("{hours}")
}

#[component]
pub fn SiteNotices(site: Memo<String>) -> impl IntoView {
    let texts = use_admin_texts();
    let current = use_session();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let people = use_site_people(move || Some(site.get()));
    let loaded = LocalResource::new(move || {
        let site = site.get();
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
        async move {
            let token = token.ok_or(AppError::SignedOut)?;
            let channels = crate::server::site_channels(&token, &site).await?;
            let mut log = crate::server::deliveries(&token).await?;
            log.retain(|entry| entry.notice.site.as_str() == site);
            log.truncate(LOG_ROWS);
            Ok::<_, AppError>((channels, log))
        }
    });
    move || {
        let texts = texts.get();
        let language = language.get();
        let body = match loaded.get() {
            None => None,
            Some(Err(_)) => Some(view! { <p class="muted" data-notices="unavailable">{texts.needs_network}</p> }.into_any()),
            Some(Ok((channels, log))) => {
                let robot = |robot: &Option<shared::api::RobotView>| match robot {
                    Some(robot) if robot.signed => format!("{} · {}", robot.url, texts.channel_signed),
                    Some(robot) => robot.url.clone(),
                    None => texts.channel_not_set.to_owned(),
                };
                let lines = [
                    (
                        Channel::Webhook,
                        channels.webhook.as_ref().map_or_else(|| texts.channel_not_set.to_owned(), |webhook| webhook.url.clone()),
                    ),
                    (Channel::WeCom, robot(&channels.wecom)),
                    (Channel::DingTalk, robot(&channels.dingtalk)),
                    (Channel::Feishu, robot(&channels.feishu)),
                ];
                let escalation = texts
                    .escalation_line
                    .replace("{managers}", &hours(channels.escalation.to_managers))
                    .replace("{admins}", &hours(channels.escalation.to_admins))
                    .replace("{undispatched}", &channels.escalation.undispatched.whole(Span::minutes(1)).to_string());
                let empty = log.is_empty().then(|| view! { <p class="muted">{texts.no_notices}</p> });
                let rows = log
                    .into_iter()
                    .map(|entry| {
                        let (state, class) = outcome(texts, &entry);
                        let notice = &entry.notice;
                        let who = people.with(|people| display_name(people, notice.recipient.as_str()));
                        view! {
                            <li class="delivery" data-notice=notice.id() data-outcome=class>
                                <p>
                                    <span class="badge">{texts.notice_kind(notice.kind)}</span>
                                    " " <a href=notice.path()>{notice.title.clone()}</a>
                                    " → " {who}
                                </p>
                                <p class="muted">{crate::i18n::moment(entry.derived_at, language)} " · " <span class=class>{state}</span></p>
                            </li>
                        }
                    })
                    .collect_view();
                Some(
                    view! {
                        <dl class="report-facts" data-list="channels">
                            {lines.into_iter().map(|(channel, shown)| view! { <dt>{texts.channel(channel)}</dt><dd data-channel=channel.as_str()>{shown}</dd> }).collect_view()}
                        </dl>
                        <p class="muted">{escalation}</p>
                        <p class="muted">{texts.channels_how}</p>
                        <h3>{texts.delivery_log}</h3>
                        <ul class="deliveries" data-list="deliveries">{rows}</ul>
                        {empty}
                    }
                    .into_any(),
                )
            }
        };
        view! {
            <section class="card" aria-labelledby="notices">
                <h2 id="notices">{texts.notices}</h2>
                {body}
            </section>
        }
    }
}
