//! The person's own notices: in Settings, whether this phone is notified, their mail, the
//! kinds they want and their quiet hours; on an order's page, muting it. The server keeps
//! these (`/api/me/notices`): changing them needs a connection.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::NoticeSettingsView;
use shared::notice::{NoticeKind, NoticeSettings, QuietHours};
use shared::protocol::DocumentId;

use crate::error::AppError;
use crate::i18n::{CurrentLanguage, Texts, use_texts};
use crate::push::{self, TurnOn};
use crate::session::use_session;

fn kind_text(texts: &Texts, kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Assigned => texts.notify_assigned,
        NoticeKind::ToVerify => texts.notify_to_verify,
        NoticeKind::UrgentHazard => texts.notify_urgent_hazard,
        NoticeKind::Overdue => texts.notify_overdue,
        NoticeKind::Undispatched => texts.notify_undispatched,
        NoticeKind::ToApprove => texts.notify_to_approve,
        NoticeKind::Conflict => texts.notify_conflict,
        NoticeKind::LowStock => texts.notify_low_stock,
        NoticeKind::MissedRound => texts.notify_missed_round,
        NoticeKind::ContractEnding => texts.notify_contract_ending,
        NoticeKind::MeterOverLimit => texts.notify_meter_over_limit,
    }
}

/// An error as the reader reads it: the server's refusal in their words, no connection as such.
fn in_words(texts: &Texts, error: &AppError) -> String {
    match error {
        AppError::Network(_) => texts.notices_offline.to_owned(),
        other => other.to_string(),
    }
}

/// `hh:mm` as minutes since midnight.
fn minutes(time: &str) -> Option<u16> {
    let (hours, minutes) = time.split_once(':')?;
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

fn time_of_day(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The phone's clock's offset from UTC in minutes (China's +480).
fn utc_offset() -> i16 {
    -(js_sys::Date::new_0().get_timezone_offset() as i16)
}

/// The session's token once the stored session has been read (a page opened directly
/// renders before it is), changing only when another person signs in.
fn signed_in_token() -> Memo<Option<String>> {
    let current = use_session();
    Memo::new(move |_| current.session.with(|session| session.as_ref().map(|session| session.token.clone())))
}

#[component]
pub fn NoticesCard() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let token = move || current.session.with_untracked(|session| session.as_ref().map(|session| session.token.clone()));
    let loaded: RwSignal<Option<Result<NoticeSettingsView, String>>> = RwSignal::new(None);
    let loading_token = signed_in_token();
    let phone_on = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let off = RwSignal::new(BTreeSet::<NoticeKind>::new());
    let quiet_on = RwSignal::new(false);
    let quiet_from = RwSignal::new("22:00".to_owned());
    let quiet_to = RwSignal::new("07:00".to_owned());
    let said: RwSignal<Option<(&'static str, String)>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let show = move |view: NoticeSettingsView| {
        let settings = &view.settings;
        email.set(settings.email.clone().unwrap_or_default());
        off.set(settings.off.clone());
        quiet_on.set(settings.quiet.is_some());
        if let Some(quiet) = settings.quiet {
            quiet_from.set(time_of_day(quiet.from));
            quiet_to.set(time_of_day(quiet.to));
        }
        loaded.set(Some(Ok(view)));
    };
    spawn_local(async move { phone_on.set(push::is_on().await) });
    Effect::new(move |_| {
        let Some(token) = loading_token.get() else { return };
        spawn_local(async move {
            match crate::server::notice_settings(&token).await {
                Ok(view) => show(view),
                Err(error) => loaded.set(Some(Err(in_words(texts.get_untracked(), &error)))),
            }
        });
    });
    let toggle_phone = move |_| {
        let (Some(token), Some(Ok(view))) = (token(), loaded.get_untracked()) else { return };
        busy.set(true);
        said.set(None);
        spawn_local(async move {
            let texts = texts.get_untracked();
            let outcome = if phone_on.get_untracked() {
                push::turn_off(&token).await.map(|view| (view, false)).map_err(|error| in_words(texts, &error))
            } else {
                push::turn_on(&token, &view.push_key).await.map(|view| (view, true)).map_err(|refused| match refused {
                    TurnOn::Denied => texts.push_denied.to_owned(),
                    TurnOn::Failed(error) => in_words(texts, &error),
                })
            };
            match outcome {
                Ok((view, on)) => {
                    phone_on.set(on);
                    show(view);
                }
                Err(error) => said.set(Some(("error", error))),
            }
            busy.set(false);
        });
    };
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(token) = token() else { return };
        let texts = texts.get_untracked();
        let quiet = if quiet_on.get_untracked() {
            match (minutes(&quiet_from.get_untracked()), minutes(&quiet_to.get_untracked())) {
                (Some(from), Some(to)) => Some(QuietHours { from, to, utc_offset: utc_offset() }),
                _ => return said.set(Some(("error", texts.quiet_hours_invalid.to_owned()))),
            }
        } else {
            None
        };
        let email = email.get_untracked().trim().to_owned();
        let settings = NoticeSettings {
            language: language.get_untracked(),
            email: (!email.is_empty()).then_some(email),
            off: off.get_untracked(),
            quiet,
            muted: BTreeSet::new(),
        };
        busy.set(true);
        spawn_local(async move {
            match crate::server::set_notice_settings(&token, &settings).await {
                Ok(view) => {
                    show(view);
                    said.set(Some(("ok", texts.saved_and_synced.to_owned())));
                }
                Err(error) => said.set(Some(("error", in_words(texts, &error)))),
            }
            busy.set(false);
        });
    };
    move || {
        let texts = texts.get();
        let body = match loaded.get() {
            None => None,
            Some(Err(error)) => Some(view! { <p class="muted" data-notices="unavailable">{error}</p> }.into_any()),
            Some(Ok(view)) => {
                let phone = if !push::supported() {
                    view! { <p class="muted" data-push="unsupported">{texts.push_unsupported}</p> }.into_any()
                } else {
                    view! {
                        <p data-push=move || if phone_on.get() { "on" } else { "off" }>
                            {move || if phone_on.get() { texts.push_is_on } else { texts.push_is_off }}
                        </p>
                        <button type="button" class="secondary" data-action="push" disabled=move || busy.get() on:click=toggle_phone>
                            {move || if phone_on.get() { texts.push_turn_off } else { texts.push_turn_on }}
                        </button>
                    }
                    .into_any()
                };
                let mail = view.mail.then(|| {
                    view! {
                        <label>
                            {texts.notice_email}
                            <input type="email" name="email" autocomplete="email" prop:value=move || email.get()
                                on:input=move |event| email.set(event_target_value(&event)) />
                        </label>
                        <p class="muted">{texts.notice_email_hint}</p>
                    }
                });
                // Only the kinds that reach someone of the person's roles.
                let roles: Vec<_> =
                    current.session.with(|session| session.iter().flat_map(|session| session.sites.iter().map(|site| site.role)).collect());
                let kinds = NoticeKind::ALL
                    .into_iter()
                    .filter(|kind| roles.iter().any(|role| kind.reaches(*role)))
                    .map(|kind| {
                        view! {
                            <label class="choice">
                                <input type="checkbox" name="kind" value=kind.as_str()
                                    prop:checked=move || off.with(|off| !off.contains(&kind))
                                    on:change=move |event| {
                                        let wanted = event_target_checked(&event);
                                        off.update(|off| { if wanted { off.remove(&kind); } else { off.insert(kind); } });
                                    } />
                                <span>{kind_text(texts, kind)}</span>
                            </label>
                        }
                    })
                    .collect_view();
                Some(
                    view! {
                        {phone}
                        <form class="form" on:submit=save>
                            {mail}
                            <fieldset>
                                <legend>{texts.notify_me_when}</legend>
                                {kinds}
                            </fieldset>
                            <fieldset>
                                <legend>{texts.quiet_hours}</legend>
                                <label class="choice">
                                    <input type="checkbox" name="quiet" prop:checked=move || quiet_on.get()
                                        on:change=move |event| quiet_on.set(event_target_checked(&event)) />
                                    <span>{texts.quiet_hours_on}</span>
                                </label>
                                <div class="times" hidden=move || !quiet_on.get()>
                                    <label>{texts.quiet_from}
                                        <input type="time" name="quiet-from" prop:value=move || quiet_from.get()
                                            on:input=move |event| quiet_from.set(event_target_value(&event)) />
                                    </label>
                                    <label>{texts.quiet_to}
                                        <input type="time" name="quiet-to" prop:value=move || quiet_to.get()
                                            on:input=move |event| quiet_to.set(event_target_value(&event)) />
                                    </label>
                                </div>
                                <p class="muted">{texts.quiet_hours_hint}</p>
                            </fieldset>
                            <button type="submit" class="primary" disabled=move || busy.get()>{texts.save}</button>
                        </form>
                    }
                    .into_any(),
                )
            }
        };
        view! {
            <section class="card" aria-labelledby="my-notices" data-card="notices">
                <h2 id="my-notices">{texts.notices}</h2>
                {body}
                {move || said.get().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
            </section>
        }
    }
}

/// "Mute this order" on its page: nothing of it reaches the person's phone or mail until
/// they unmute it. Shown once the server has said whether it is muted.
#[component]
pub fn MuteButton(document: DocumentId) -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let token = move || current.session.with_untracked(|session| session.as_ref().map(|session| session.token.clone()));
    let muted: RwSignal<Option<bool>> = RwSignal::new(None);
    let failed: RwSignal<Option<String>> = RwSignal::new(None);
    let loading_token = signed_in_token();
    Effect::new(move |_| {
        let Some(token) = loading_token.get() else { return };
        spawn_local(async move {
            if let Ok(view) = crate::server::notice_settings(&token).await {
                muted.set(Some(view.settings.muted.contains(&document)));
            }
        });
    });
    let toggle = move |_| {
        let (Some(token), Some(now_muted)) = (token(), muted.get_untracked()) else { return };
        spawn_local(async move {
            match crate::server::set_muted(&token, &document, !now_muted).await {
                Ok(view) => {
                    failed.set(None);
                    muted.set(Some(view.settings.muted.contains(&document)));
                }
                Err(error) => failed.set(Some(in_words(texts.get_untracked(), &error))),
            }
        });
    };
    move || {
        let texts = texts.get();
        muted.get().map(|is_muted| {
            view! {
                <p class="muted" data-muted=if is_muted { "yes" } else { "no" }>
                    {is_muted.then_some(texts.order_muted)} " "
                    <button type="button" class="link-button" on:click=toggle>{if is_muted { texts.unmute_order } else { texts.mute_order }}</button>
                </p>
                {move || failed.get().map(|error| view! { <p class="error">{error}</p> })}
            }
        })
    }
}
