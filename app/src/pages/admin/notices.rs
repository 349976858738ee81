//! A site's notifications on its administration page: where its notices go, when overdue
//! orders escalate, and what became of the latest notices — delivered, being retried, or
//! given up — read from the server (it needs a connection).

use leptos::prelude::*;
use shared::api::{ChannelsView, RobotSettings, SiteChannels, WebhookSettings};
use shared::notice::{Channel, Delivery, Escalation, OutboxEntry};
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
    let editing = RwSignal::new(false);
    let shown_channels: StoredValue<Option<ChannelsView>> = StoredValue::new(None);
    move || {
        let texts = texts.get();
        let language = language.get();
        let body = match loaded.get() {
            None => None,
            Some(Err(_)) => Some(view! { <p class="muted" data-notices="unavailable">{texts.needs_network}</p> }.into_any()),
            Some(Ok((channels, log))) => {
                shown_channels.set_value(Some(channels.clone()));
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
                        {move || if editing.get() {
                            view! { <ChannelsForm site=site shown=shown_channels.get_value() on_done=Callback::new(move |saved: bool| {
                                editing.set(false);
                                if saved { loaded.refetch(); }
                            }) /> }.into_any()
                        } else {
                            view! { <button type="button" class="secondary" data-action="edit-channels" on:click=move |_| editing.set(true)>{texts.edit_channels}</button> }.into_any()
                        }}
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

/// A text field's value, trimmed; `None` when empty.
fn given(field: RwSignal<String>) -> Option<String> {
    Some(field.get_untracked().trim().to_owned()).filter(|text| !text.is_empty())
}

/// Hours or minutes typed as a number (a decimal point allowed), as a span.
fn typed_span(field: RwSignal<String>, unit: Span) -> Option<Span> {
    let number: f64 = field.get_untracked().trim().replace(',', ".").parse().ok()?;
    (number.is_finite() && number >= 0.0).then(|| Span::from_millis((number * unit.as_millis() as f64).round() as i64))
}

/// Changing where a site's notices go and when overdue and undispatched orders escalate.
/// A secret is never shown again: left empty, the one set before stays.
#[component]
fn ChannelsForm(site: Memo<String>, shown: Option<ChannelsView>, on_done: Callback<bool>) -> impl IntoView {
    let texts = use_admin_texts();
    let current = use_session();
    let shown = shown.unwrap_or(ChannelsView { webhook: None, wecom: None, dingtalk: None, feishu: None, escalation: Escalation::DEFAULT });
    let field = |value: Option<String>| RwSignal::new(value.unwrap_or_default());
    let webhook_url = field(shown.webhook.as_ref().map(|webhook| webhook.url.clone()));
    let webhook_secret = field(None);
    let wecom_url = field(shown.wecom.as_ref().map(|robot| robot.url.clone()));
    let dingtalk_url = field(shown.dingtalk.as_ref().map(|robot| robot.url.clone()));
    let dingtalk_secret = field(None);
    let feishu_url = field(shown.feishu.as_ref().map(|robot| robot.url.clone()));
    let feishu_secret = field(None);
    let to_managers = field(Some(hours(shown.escalation.to_managers)));
    let to_admins = field(Some(hours(shown.escalation.to_admins)));
    let undispatched = field(Some(shown.escalation.undispatched.whole(Span::minutes(1)).to_string()));
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let (had_webhook, dingtalk_signed, feishu_signed) = (
        shown.webhook.is_some(),
        shown.dingtalk.as_ref().is_some_and(|robot| robot.signed),
        shown.feishu.as_ref().is_some_and(|robot| robot.signed),
    );
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let (Some(managers), Some(admins), Some(wait)) =
            (typed_span(to_managers, Span::HOUR), typed_span(to_admins, Span::HOUR), typed_span(undispatched, Span::minutes(1)))
        else {
            return error.set(Some(texts.escalation_invalid.to_owned()));
        };
        let mut keep_secrets = Vec::new();
        let webhook = given(webhook_url).map(|url| {
            if had_webhook && given(webhook_secret).is_none() {
                keep_secrets.push(Channel::Webhook);
            }
            WebhookSettings { url, secret: given(webhook_secret).unwrap_or_default() }
        });
        let mut robot = |url: RwSignal<String>, secret: Option<RwSignal<String>>, signed: bool, channel: Channel| {
            given(url).map(|url| {
                let secret = secret.and_then(given);
                if signed && secret.is_none() {
                    keep_secrets.push(channel);
                }
                RobotSettings { url, secret }
            })
        };
        let channels = SiteChannels {
            webhook,
            wecom: robot(wecom_url, None, false, Channel::WeCom),
            dingtalk: robot(dingtalk_url, Some(dingtalk_secret), dingtalk_signed, Channel::DingTalk),
            feishu: robot(feishu_url, Some(feishu_secret), feishu_signed, Channel::Feishu),
            escalation: Some(Escalation { to_managers: managers, to_admins: admins, undispatched: wait }),
            keep_secrets,
        };
        let Some(token) = current.session.with_untracked(|session| session.as_ref().map(|session| session.token.clone())) else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::server::set_site_channels(&token, &site.get_untracked(), &channels).await {
                Ok(_) => on_done.run(true),
                Err(refused) => error.set(Some(refused.to_string())),
            }
            busy.set(false);
        });
    };
    let input = move |name: &'static str, label: &'static str, kind: &'static str, value: RwSignal<String>, placeholder: &'static str| {
        view! {
            <label>
                {label}
                <input type=kind name=name placeholder=placeholder prop:value=move || value.get() on:input=move |event| value.set(event_target_value(&event)) />
            </label>
        }
    };
    move || {
        let texts = texts.get();
        let keep = texts.secret_unchanged;
        view! {
            <form class="form" data-form="channels" on:submit=save>
                {input("webhook-url", texts.channel_webhook, "url", webhook_url, "")}
                {input("webhook-secret", texts.webhook_secret, "password", webhook_secret, if had_webhook { keep } else { "" })}
                {input("wecom-url", texts.channel_wecom, "url", wecom_url, "")}
                {input("dingtalk-url", texts.channel_dingtalk, "url", dingtalk_url, "")}
                {input("dingtalk-secret", texts.robot_secret, "password", dingtalk_secret, if dingtalk_signed { keep } else { "" })}
                {input("feishu-url", texts.channel_feishu, "url", feishu_url, "")}
                {input("feishu-secret", texts.robot_secret, "password", feishu_secret, if feishu_signed { keep } else { "" })}
                {input("to-managers", texts.escalate_to_managers, "text", to_managers, "")}
                {input("to-admins", texts.escalate_to_admins, "text", to_admins, "")}
                {input("undispatched", texts.escalate_undispatched, "text", undispatched, "")}
                <p class="muted">{texts.channels_how}</p>
                {move || error.get().map(|error| view! { <p class="error" role="alert">{error}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get()>{texts.save_channels}</button>
                <button type="button" class="secondary" on:click=move |_| on_done.run(false)>{texts.cancel_edit}</button>
            </form>
        }
    }
}
