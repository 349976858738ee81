//! The public pages, rendered here: one small HTML file each, its style and script
//! inline, in Chinese or English. What a page shows is escaped; its script runs only with
//! the response's nonce.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use shared::document::work_order::{EventKind, WorkOrderView};
use shared::language::Language;
use shared::public::{MAX_FEEDBACK_CHARS, MAX_NAME_CHARS, MAX_PHONE_CHARS, MAX_TEXT_CHARS, Stage};
use shared::time::{Span, Timestamp};

use super::Label;
use super::contractor::{Contracted, Standing};
use super::store::Track;
use crate::labels::escape;

/// A rendered page and the nonce its scripts carry.
pub struct Page {
    html: String,
    nonce: String,
}

pub fn respond(status: StatusCode, page: Page) -> Response {
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{}'; style-src 'unsafe-inline'; img-src blob: data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        page.nonce
    );
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&policy).expect("a nonce is a header value")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (status, headers, Html(page.html)).into_response()
}

/// The words of the public pages in one language.
struct Words {
    lang: &'static str,
    other: (&'static str, &'static str),
    report: &'static str,
    intro: &'static str,
    what: &'static str,
    what_hint: &'static str,
    urgency: &'static str,
    can_wait: &'static str,
    soon: &'static str,
    danger: &'static str,
    photo: &'static str,
    name: &'static str,
    phone: &'static str,
    optional_note: &'static str,
    send: &'static str,
    staff: &'static str,
    sent: &'static str,
    sent_note: &'static str,
    follow: &'static str,
    duplicate: &'static str,
    duplicate_note: &'static str,
    anyway: &'static str,
    mine: &'static str,
    closed: &'static str,
    closed_note: &'static str,
    not_found: &'static str,
    not_found_note: &'static str,
    progress: &'static str,
    steps: &'static str,
    rate: &'static str,
    stars: &'static str,
    /// What each number of stars means, from one to five.
    star_words: [&'static str; 5],
    comment: &'static str,
    send_rating: &'static str,
    not_fixed: &'static str,
    not_fixed_why: &'static str,
    send_not_fixed: &'static str,
    rated: &'static str,
    today: &'static str,
    unknown_track: &'static str,
    unknown_track_note: &'static str,
    /// Error codes of the API and the script's own states, in this language.
    messages: &'static [(&'static str, &'static str)],
}

const CHINESE: Words = Words {
    lang: "zh-CN",
    other: ("en", "English"),
    report: "报修",
    intro: "不用登录，说清哪里坏了，后勤部会安排维修。",
    what: "哪里坏了？",
    what_hint: "例如：空调不制冷，滴水",
    urgency: "有多急？",
    can_wait: "不急，这几天修好就行",
    soon: "影响使用，请尽快",
    danger: "有危险（漏水、漏电、冒烟等）",
    photo: "拍张照片（可选）",
    name: "您的称呼（可选）",
    phone: "手机号（可选，方便师傅联系您）",
    optional_note: "称呼和电话只给后勤部的工作人员看。",
    send: "提交报修",
    staff: "工作人员请登录",
    sent: "已提交，谢谢！",
    sent_note: "保存下面的链接，随时查看维修进度，修好后请打分（用这部手机再扫这个标签也能找到）：",
    follow: "查看进度",
    duplicate: "这里已经有人报修了",
    duplicate_note: "同一位置刚有一条未修好的报修，可能就是您遇到的问题。打开下面的链接跟进进度：",
    anyway: "不是同一个问题，仍然提交",
    mine: "您在这部手机上报修过",
    closed: "这里暂不接受扫码报修",
    closed_note: "请联系后勤部或楼管报修。",
    not_found: "找不到这个标签",
    not_found_note: "标签上的编码不认识，可能已停用。请联系后勤部报修。",
    progress: "报修进度",
    steps: "经过",
    rate: "修好了吗？请打分",
    stars: "评分（1–5 星）",
    star_words: ["很不满意", "不满意", "一般", "满意", "很满意"],
    comment: "想说的话（可选）",
    send_rating: "提交评分",
    not_fixed: "还没修好",
    not_fixed_why: "哪里还有问题？",
    send_not_fixed: "告诉后勤部还没修好",
    rated: "您的评分：",
    today: "今天",
    unknown_track: "找不到这条报修",
    unknown_track_note: "链接不完整或已失效。请检查链接，或重新扫码报修。",
    messages: &[
        ("sending", "正在提交…"),
        ("shrinking", "正在处理照片…"),
        ("offline", "没有网络，未能提交。请连上网络后再试一次。"),
        ("failed", "提交失败，请稍后再试。"),
        ("text_missing", "请写下哪里坏了。"),
        ("text_too_long", "文字太长了，请简短一些。"),
        ("name_too_long", "称呼太长了。"),
        ("phone_invalid", "手机号只能包含数字、空格、+ 和 -。"),
        ("photo_invalid", "这张照片无法读取，请换一张。"),
        ("too_large", "照片太大了，请换一张。"),
        ("unsupported_file", "只能上传 JPEG、PNG 或 WebP 照片。"),
        ("quota_exceeded", "照片暂时无法保存，请不带照片提交。"),
        ("disk_full", "服务器空间不足，请稍后再试或联系后勤部。"),
        ("too_many_reports", "提交太频繁了，请过几分钟再试。"),
        ("refused", "无法受理这条报修，请联系后勤部。"),
        ("closed", "这里暂不接受扫码报修，请联系后勤部。"),
        ("not_found", "找不到这个标签或这条报修。"),
        ("not_done", "维修还没有完成，暂时不能评分。"),
        ("rating_invalid", "请选择 1 到 5 星。"),
        ("choose_stars", "请先选择星级。"),
        ("not_yours", "这项工作已不再由您处理。"),
        ("not_open", "这一步已经记录过了，请刷新页面。"),
    ],
};

const ENGLISH: Words = Words {
    lang: "en",
    other: ("zh-CN", "中文"),
    report: "Report a fault",
    intro: "No account needed: say what is wrong and the logistics office will send someone.",
    what: "What is wrong?",
    what_hint: "For example: the air conditioner drips and does not cool",
    urgency: "How urgent is it?",
    can_wait: "It can wait a few days",
    soon: "It stops us using the place: soon, please",
    danger: "Dangerous (water, electricity, smoke…)",
    photo: "Take a photo (optional)",
    name: "Your name (optional)",
    phone: "Phone number (optional, so the technician can call you)",
    optional_note: "Only the logistics office's staff see your name and number.",
    send: "Send the report",
    staff: "Staff: sign in",
    sent: "Sent, thank you!",
    sent_note: "Keep this link to follow the repair and rate it once it is done (scanning this label again on this phone finds it too):",
    follow: "Follow the repair",
    duplicate: "Someone has reported this place already",
    duplicate_note: "There is an open report here from a moment ago; it may be your fault. Follow it here:",
    anyway: "It is a different fault: send mine",
    mine: "Your reports from this phone",
    closed: "This place does not take reports by scan",
    closed_note: "Please report it to the logistics office or the building's caretaker.",
    not_found: "Unknown label",
    not_found_note: "The code on this label is not known; it may be out of use. Please report the fault to the logistics office.",
    progress: "Your report",
    steps: "So far",
    rate: "Is it fixed? Please rate the repair",
    stars: "Rating (1–5 stars)",
    star_words: ["Very poor", "Poor", "All right", "Good", "Very good"],
    comment: "Anything to add (optional)",
    send_rating: "Send the rating",
    not_fixed: "It is not fixed",
    not_fixed_why: "What is still wrong?",
    send_not_fixed: "Tell the office it is not fixed",
    rated: "Your rating: ",
    today: "today",
    unknown_track: "Report not found",
    unknown_track_note: "The link is incomplete or no longer valid. Check the link, or scan the label and report again.",
    messages: &[
        ("sending", "Sending…"),
        ("shrinking", "Preparing the photo…"),
        ("offline", "No connection: nothing was sent. Try again once you are online."),
        ("failed", "It could not be sent. Please try again in a moment."),
        ("text_missing", "Please say what is wrong."),
        ("text_too_long", "That is too long: please keep it shorter."),
        ("name_too_long", "The name is too long."),
        ("phone_invalid", "A phone number has digits, spaces, + and - only."),
        ("photo_invalid", "This photo cannot be read: please choose another."),
        ("too_large", "The photo is too large: please choose another."),
        ("unsupported_file", "Only JPEG, PNG and WebP photos are taken."),
        ("quota_exceeded", "The photo cannot be kept just now: please send without it."),
        ("disk_full", "The server is short of space: try again later or call the logistics office."),
        ("too_many_reports", "Too many reports: please try again in a few minutes."),
        ("refused", "This report cannot be taken: please call the logistics office."),
        ("closed", "This place does not take reports by scan: please call the logistics office."),
        ("not_found", "This label or report is not known."),
        ("not_done", "The repair is not done yet: there is nothing to rate."),
        ("rating_invalid", "Please choose from 1 to 5 stars."),
        ("choose_stars", "Please choose the stars first."),
        ("not_yours", "This work is no longer yours."),
        ("not_open", "This step is recorded already: reload the page."),
    ],
};

const fn words(language: Language) -> &'static Words {
    match language {
        Language::Chinese => &CHINESE,
        Language::English => &ENGLISH,
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#1c2321;background:#f5f7f6}\
header{background:#0f6b5c;color:#fff;padding:14px 16px}\
header h1{margin:0;font-size:22px}\
header p{margin:4px 0 0;opacity:.92}\
.lang{float:right;color:#fff;padding:0 0 0 16px;margin-top:-10px}\
main{max-width:34rem;margin:0 auto;padding:12px 16px 32px}\
label,legend{display:block;font-weight:600;margin:16px 0 6px}\
fieldset{border:0;margin:0;padding:0;min-width:0}\
fieldset label{font-weight:400;margin:4px 0;display:flex;gap:10px;align-items:center;min-height:44px;padding:0 12px;background:#fff;border:1px solid #d9e0dd;border-radius:12px}\
textarea,input[type=text],input[type=tel]{width:100%;font:inherit;padding:10px 12px;border:1px solid #d9e0dd;border-radius:12px;background:#fff}\
textarea{min-height:96px}\
label.photo-button{position:relative;display:flex;align-items:center;justify-content:center;min-height:48px;margin:20px 0 0;font-weight:600;color:#0f6b5c;background:#fff;border:1px solid #0f6b5c;border-radius:12px}\
label.photo-button input{position:absolute;inset:0;width:100%;height:100%;opacity:0}\
button{display:block;width:100%;min-height:48px;margin:20px 0 8px;font:inherit;font-weight:600;color:#fff;background:#0f6b5c;border:0;border-radius:12px}\
button.secondary{color:#0f6b5c;background:#fff;border:1px solid #0f6b5c}\
button:disabled{opacity:.6}\
img{max-width:100%;border-radius:12px;margin-top:8px}\
.note,.muted{color:#5d6b67;font-size:14px}\
.status{min-height:1.5em;font-weight:600;color:#b3261e}\
.card{background:#fff;border:1px solid #d9e0dd;border-radius:12px;padding:12px 16px;margin:12px 0}\
.stage{font-size:20px;font-weight:700;color:#0f6b5c;margin:0}\
ol{padding-left:20px}\
a{color:#0f6b5c;word-break:break-all;display:inline-block;min-height:44px;line-height:44px}\
a.url{display:block;line-height:1.5;padding:10px 0}\
a.go{display:block;text-align:center;min-height:48px;line-height:48px;font-weight:600;color:#fff;background:#0f6b5c;border-radius:12px;text-decoration:none}\
.stars{color:#f2b33d;letter-spacing:1px}\
.hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}\
[hidden]{display:none!important}";

fn new_nonce() -> String {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    use password_hash::rand_core::{OsRng, RngCore as _};
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    Base64UrlUnpadded::encode_string(&bytes)
}

/// The messages as a JSON object for the script.
fn messages_json(words: &Words) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        words.messages.iter().map(|(code, text)| ((*code).to_owned(), serde_json::Value::String((*text).to_owned()))).collect();
    // Inside a script element: `<` may not start `</script>`.
    serde_json::Value::Object(map).to_string().replace('<', "\\u003c")
}

/// A whole page: the head, the header with its title and subtitle, the body, a script.
fn document(words: &Words, title: &str, subtitle: &str, body: &str, head_script: &str, script: &str) -> Page {
    let nonce = new_nonce();
    let (other_lang, other_name) = words.other;
    let head_script = if head_script.is_empty() { String::new() } else { format!("<script nonce=\"{nonce}\">{head_script}</script>") };
    let script = if script.is_empty() {
        String::new()
    } else {
        format!(
            "<script id=\"messages\" type=\"application/json\">{}</script><script nonce=\"{nonce}\">{script}</script>",
            messages_json(words)
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>{STYLE}</style>{head_script}</head>\
         <body><header><a class=\"lang\" href=\"?lang={other_lang}\">{other_name}</a><h1>{title}</h1><p>{subtitle}</p></header>\
         <main>{body}</main>{script}</body></html>",
        lang = words.lang,
        title = escape(title),
        subtitle = escape(subtitle),
    );
    Page { html, nonce }
}

/// Sends a phone signed in to the app on to the app's own label page.
const TO_THE_APP: &str = "try{if(localStorage.getItem(\"houqin.signed-in\"))location.replace(location.pathname+\"?app\")}catch(e){}";

const REPORT_SCRIPT: &str = include_str!("report.js");
/// The tracking and contractor's pages post their answers the same way (`post.js`).
const TRACK_SCRIPT: &str = concat!(include_str!("post.js"), include_str!("track.js"));
const CONTRACTOR_SCRIPT: &str = concat!(include_str!("post.js"), include_str!("contractor.js"));

/// The label's report form.
pub fn report_form(language: Language, label: &Label) -> Page {
    let w = words(language);
    let urgency = [("can_wait", w.can_wait), ("soon", w.soon), ("danger", w.danger)]
        .iter()
        .map(|(value, text)| format!("<label><input type=\"radio\" name=\"urgency\" value=\"{value}\" required>{text}</label>"))
        .collect::<String>();
    let body = format!(
        "<p class=\"muted\">{intro}</p>\
         <section id=\"mine\" class=\"card\" hidden><strong>{mine}</strong><ul></ul></section>\
         <form id=\"report\" data-code=\"{code}\" novalidate>\
         <label for=\"what\">{what}</label><textarea id=\"what\" name=\"what\" maxlength=\"{MAX_TEXT_CHARS}\" placeholder=\"{what_hint}\" required></textarea>\
         <fieldset><legend>{urgency_label}</legend>{urgency}</fieldset>\
         <label class=\"photo-button\">{photo}<input id=\"photo\" name=\"photo\" type=\"file\" accept=\"image/*\"></label><img id=\"preview\" alt=\"\" hidden>\
         <label for=\"reporter\">{name}</label><input id=\"reporter\" name=\"reporter\" type=\"text\" maxlength=\"{MAX_NAME_CHARS}\" autocomplete=\"name\">\
         <label for=\"phone\">{phone}</label><input id=\"phone\" name=\"phone\" type=\"tel\" maxlength=\"{MAX_PHONE_CHARS}\" autocomplete=\"tel\">\
         <p class=\"note\">{optional_note}</p>\
         <div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">Website</label><input id=\"website\" name=\"website\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\"></div>\
         <button type=\"submit\">{send}</button><p id=\"status\" class=\"status\" role=\"status\"></p></form>\
         <section id=\"duplicate\" class=\"card\" hidden><p><strong>{duplicate}</strong></p><p>{duplicate_note}</p><p><a class=\"url\" href=\"#\"></a></p><p><a class=\"go\" href=\"#\">{follow}</a></p>\
         <button id=\"anyway\" type=\"button\" class=\"secondary\">{anyway}</button></section>\
         <section id=\"done\" class=\"card\" hidden><p class=\"stage\">{sent}</p><p>{sent_note}</p><p><a class=\"url\" href=\"#\"></a></p><p><a class=\"go\" href=\"#\">{follow}</a></p></section>\
         <p class=\"note\"><a href=\"?app\">{staff}</a></p>",
        intro = w.intro,
        mine = w.mine,
        code = escape(&label.code),
        what = w.what,
        what_hint = w.what_hint,
        urgency_label = w.urgency,
        photo = w.photo,
        name = w.name,
        phone = w.phone,
        optional_note = w.optional_note,
        send = w.send,
        duplicate = w.duplicate,
        duplicate_note = w.duplicate_note,
        anyway = w.anyway,
        sent = w.sent,
        sent_note = w.sent_note,
        follow = w.follow,
        staff = w.staff,
    );
    document(w, w.report, &label.shown(), &body, TO_THE_APP, REPORT_SCRIPT)
}

/// A label whose site (or kind of place) takes no public reports.
pub fn closed(language: Language, shown: &str, code: &str) -> Page {
    let w = words(language);
    let body = format!(
        "<div class=\"card\"><p class=\"stage\">{closed}</p><p>{note}</p><p class=\"muted\">{code}</p></div><p class=\"note\"><a href=\"?app\">{staff}</a></p>",
        closed = w.closed,
        note = w.closed_note,
        code = escape(code),
        staff = w.staff,
    );
    document(w, w.report, shown, &body, TO_THE_APP, "")
}

/// A code no label has.
pub fn not_found(language: Language, code: &str) -> Page {
    let w = words(language);
    let body = format!("<div class=\"card\"><p class=\"stage\">{}</p><p>{}</p></div>", w.not_found, w.not_found_note);
    document(w, w.report, code, &body, TO_THE_APP, "")
}

/// A tracking token that opens nothing.
pub fn unknown_track(language: Language) -> Page {
    let w = words(language);
    let body = format!("<div class=\"card\"><p class=\"stage\">{}</p><p>{}</p></div>", w.unknown_track, w.unknown_track_note);
    document(w, w.progress, "", &body, "", "")
}

/// When, as the reader says it: the time alone today, else the date in full, in the
/// sites' calendar (`offset_minutes` east of UTC).
fn when(at: Timestamp, now: Timestamp, offset_minutes: i32, language: Language) -> String {
    let shift = Span::minutes(i64::from(offset_minutes));
    let (local, today) = (at.plus(shift), now.plus(shift));
    let minutes = local.time_of_day().whole(Span::MINUTE);
    let time = format!("{:02}:{:02}", minutes / 60, minutes % 60);
    if local.day_number() == today.day_number() {
        return format!("{} {time}", words(language).today);
    }
    let date = local.date();
    let mut parts = date.split('-').map(|part| part.parse::<u32>().unwrap_or(0));
    let (year, month, day) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    match language {
        Language::Chinese => format!("{year}年{month}月{day}日 {time}"),
        Language::English => {
            const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let name = MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or("");
            format!("{day} {name} {year}, {time}")
        }
    }
}

/// The steps the reporter is shown, without who took them.
fn step_words(kind: &EventKind, language: Language) -> Option<&'static str> {
    let stage = match kind {
        EventKind::Reported => Stage::Received,
        EventKind::Assigned { .. } | EventKind::Contracted { .. } | EventKind::Acknowledged => Stage::Assigned,
        EventKind::Started => Stage::Working,
        EventKind::Paused { .. } => Stage::Waiting,
        EventKind::Completed { .. } => Stage::Done,
        EventKind::Verified { .. } => Stage::Closed,
        EventKind::Reopened { .. } => Stage::Reopened,
        EventKind::Cancelled { .. } => Stage::Cancelled,
        EventKind::Resolved { .. } => return None,
    };
    Some(stage.words(language).0)
}

/// The order's progress, and once repaired the rating or "not fixed" forms.
pub fn tracking(language: Language, track: &Track, view: &WorkOrderView, now: Timestamp, offset_minutes: i32) -> Page {
    let w = words(language);
    let state = view.state();
    let stage = Stage::of(state.status);
    let (heading, sentence) = stage.words(language);
    let mut events: Vec<_> = view.events.iter().collect();
    events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let steps: String = events
        .iter()
        .filter_map(|event| Some((step_words(&event.kind, language)?, event.at)))
        .map(|(words, at)| format!("<li>{words} · <span class=\"muted\">{}</span></li>", when(at, now, offset_minutes, language)))
        .collect();
    let answer = match (stage, state.rating) {
        (Stage::Done, _) if track.may_answer => {
            let stars: String = (1..=5)
                .map(|stars| {
                    let shown = format!("{}{}", "★".repeat(stars), "☆".repeat(5 - stars));
                    format!(
                        "<label><input type=\"radio\" name=\"rating\" value=\"{stars}\" required><span class=\"stars\">{shown}</span>{}</label>",
                        w.star_words[stars - 1]
                    )
                })
                .collect();
            format!(
                "<form id=\"rate\" class=\"card\" novalidate><p class=\"stage\">{rate}</p>\
                 <fieldset><legend>{stars_label}</legend>{stars}</fieldset>\
                 <label for=\"comment\">{comment}</label><textarea id=\"comment\" name=\"comment\" maxlength=\"{MAX_FEEDBACK_CHARS}\"></textarea>\
                 <button type=\"submit\">{send_rating}</button></form>\
                 <form id=\"not-fixed\" class=\"card\" novalidate><p class=\"stage\">{not_fixed}</p><label for=\"why\">{not_fixed_why}</label>\
                 <textarea id=\"why\" name=\"why\" maxlength=\"{MAX_FEEDBACK_CHARS}\"></textarea>\
                 <button type=\"submit\" class=\"secondary\">{send_not_fixed}</button></form><p id=\"status\" class=\"status\" role=\"status\"></p>",
                rate = w.rate,
                stars_label = w.stars,
                comment = w.comment,
                send_rating = w.send_rating,
                not_fixed = w.not_fixed,
                not_fixed_why = w.not_fixed_why,
                send_not_fixed = w.send_not_fixed,
            )
        }
        (Stage::Closed, Some(rating)) => {
            let stars = usize::from(rating.stars());
            format!(
                "<p class=\"card\" data-rating=\"{stars}\">{}<span class=\"stars\">{}{}</span> {}</p>",
                w.rated,
                "★".repeat(stars),
                "☆".repeat(5 - stars),
                w.star_words[stars.clamp(1, 5) - 1]
            )
        }
        _ => String::new(),
    };
    let body = format!(
        "<div class=\"card\"><p class=\"stage\" id=\"stage\" data-stage=\"{stage:?}\">{heading}</p><p>{sentence}</p></div>\
         <div class=\"card\"><strong>{title}</strong><p class=\"muted\">{description}</p></div>\
         <div class=\"card\"><strong>{steps_label}</strong><ol>{steps}</ol></div>{answer}",
        title = escape(&view.title),
        description = escape(&view.description),
        steps_label = w.steps,
    );
    let script = if answer.contains("<form") { TRACK_SCRIPT } else { "" };
    document(w, w.progress, &track.place, &body, "", script)
}

/// The words of a contractor's page in one language.
struct ContractorWords {
    title: &'static str,
    /// What each standing is called: to start, working, done, not theirs.
    headings: [&'static str; 4],
    /// For each standing: what the page says first.
    to_start: &'static str,
    working: &'static str,
    done: &'static str,
    not_theirs: &'static str,
    due: &'static str,
    started: &'static str,
    what_was_done: &'static str,
    completed: &'static str,
}

const CONTRACTOR_CHINESE: ContractorWords = ContractorWords {
    title: "外包维修",
    headings: ["待处理", "处理中", "已完工", "已不由您处理"],
    to_start: "后勤部请您处理这项工作。到场开工时请点“开工”，完工后填写处理情况并点“完工”。",
    working: "已开工。完工后请填写处理情况并点“完工”。",
    done: "已完工，谢谢！后勤部会验收。",
    not_theirs: "这项工作已不再由您处理（已改派、取消或验收完毕）。如有疑问请联系后勤部。",
    due: "要求完成时间",
    started: "开工",
    what_was_done: "处理情况（更换了什么、还有什么问题）",
    completed: "完工",
};

const CONTRACTOR_ENGLISH: ContractorWords = ContractorWords {
    title: "Contracted work",
    headings: ["To do", "Under way", "Done", "No longer yours"],
    to_start: "The facilities department asks you to do this work. Tap “Started” when you begin, and “Done” with what you did when you finish.",
    working: "Under way. When you finish, say what you did and tap “Done”.",
    done: "Done, thank you. The department will check it.",
    not_theirs: "This work is no longer yours (given to someone else, cancelled or checked and closed). Ask the facilities department if in doubt.",
    due: "Due",
    started: "Started",
    what_was_done: "What was done (parts replaced, anything still wrong)",
    completed: "Done",
};

/// A contractor's page: what the work is and where, and the step they may take now.
pub fn contractor(
    language: Language,
    link: &Contracted,
    order: &WorkOrderView,
    standing: Standing,
    now: Timestamp,
    offset_minutes: i32,
) -> Page {
    let w = words(language);
    let c = match language {
        Language::Chinese => &CONTRACTOR_CHINESE,
        Language::English => &CONTRACTOR_ENGLISH,
    };
    let (heading, said) = match standing {
        Standing::ToStart => (c.headings[0], c.to_start),
        Standing::Working => (c.headings[1], c.working),
        Standing::Done => (c.headings[2], c.done),
        Standing::NotTheirs => (c.headings[3], c.not_theirs),
    };
    let due = order
        .due_at
        .filter(|_| matches!(standing, Standing::ToStart | Standing::Working))
        .map(|due| format!("<p class=\"muted\">{}: {}</p>", c.due, when(due, now, offset_minutes, language)))
        .unwrap_or_default();
    let start = if standing == Standing::ToStart {
        format!("<button type=\"button\" id=\"start\" class=\"secondary\">{}</button>", c.started)
    } else {
        String::new()
    };
    let finish = if matches!(standing, Standing::ToStart | Standing::Working) {
        format!(
            "<form id=\"done\" class=\"card\" novalidate><label for=\"notes\">{what}</label>\
             <textarea id=\"notes\" name=\"notes\" maxlength=\"{MAX_FEEDBACK_CHARS}\"></textarea>\
             <button type=\"submit\">{completed}</button></form>",
            what = c.what_was_done,
            completed = c.completed,
        )
    } else {
        String::new()
    };
    let acting = !start.is_empty() || !finish.is_empty();
    let status = if acting { "<p id=\"status\" class=\"status\" role=\"status\"></p>" } else { "" };
    let body = format!(
        "<div class=\"card\"><p class=\"stage\" id=\"stage\" data-standing=\"{standing}\">{heading}</p><p>{said}</p></div>\
         <div class=\"card\"><strong>{title}</strong><p>{description}</p>{due}</div>{start}{finish}{status}",
        standing = standing.as_str(),
        title = escape(&order.title),
        description = escape(&order.description),
    );
    document(w, c.title, &link.place, &body, "", if acting { CONTRACTOR_SCRIPT } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_the_hour_today_and_the_whole_date_otherwise() {
        // 2026-12-05 06:30 UTC is 14:30 in China.
        let at = Timestamp::from_millis(1_796_452_200_000);
        assert_eq!(when(at, at.plus(Span::HOUR), 480, Language::Chinese), "今天 14:30");
        assert_eq!(when(at, at.plus(Span::DAY), 480, Language::Chinese), "2026年12月5日 14:30");
        assert_eq!(when(at, at.plus(Span::DAY), 480, Language::English), "5 Dec 2026, 14:30");
    }

    #[test]
    fn the_script_cannot_be_closed_by_a_message() {
        assert!(!messages_json(&CHINESE).contains('<'));
        assert_eq!(CHINESE.messages.len(), ENGLISH.messages.len(), "every message in both languages");
        for (code, _) in CHINESE.messages {
            assert!(ENGLISH.messages.iter().any(|(english, _)| english == code), "{code} in English");
        }
    }
}
