//! Chinese and English texts, and the reader's choice of language.
//!
//! Chinese is the default: the organisation writes in Chinese. A browser that prefers
//! English gets English until the reader chooses otherwise in Settings.

use gloo_storage::Storage as _;
use leptos::prelude::*;

/// A language the interface is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Chinese,
    English,
}

impl Language {
    /// Every language, in the order Settings offers them.
    pub const ALL: [Language; 2] = [Language::Chinese, Language::English];

    /// The BCP 47 tag, also the stored choice.
    pub const fn tag(self) -> &'static str {
        match self {
            Language::Chinese => "zh-CN",
            Language::English => "en",
        }
    }

    /// The language's name in itself, as a chooser shows it.
    pub const fn native_name(self) -> &'static str {
        match self {
            Language::Chinese => "中文",
            Language::English => "English",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.tag() == tag)
    }

    /// The language for a browser's preference list (`navigator.languages`): the first of
    /// them that we have, else Chinese.
    pub fn from_preferences<'a>(preferences: impl IntoIterator<Item = &'a str>) -> Language {
        preferences
            .into_iter()
            .find_map(|tag| {
                let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
                match primary.as_str() {
                    "zh" => Some(Language::Chinese),
                    "en" => Some(Language::English),
                    _ => None,
                }
            })
            .unwrap_or(Language::Chinese)
    }

    pub const fn texts(self) -> &'static Texts {
        match self {
            Language::Chinese => &CHINESE,
            Language::English => &ENGLISH,
        }
    }
}

/// Every text of the interface in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Texts {
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub nav_settings: &'static str,
    pub this_phone: &'static str,
    pub checking_server: &'static str,
    pub server_reachable: &'static str,
    pub server_unreachable: &'static str,
    pub app_version: &'static str,
    pub server_version: &'static str,
    pub settings_title: &'static str,
    pub language: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    pub sign_in_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub wrong_login: &'static str,
    /// `{}` is the number of seconds.
    pub too_many_attempts: &'static str,
    pub sign_in_needs_network: &'static str,
    pub sign_in_failed: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub my_sites: &'static str,
    /// Role names, in the order of `shared::directory::Role::ALL`.
    pub roles: [&'static str; 6],
    /// `{}` is the number of changes.
    pub sign_out_warning: &'static str,
    pub synced: &'static str,
    pub syncing: &'static str,
    pub unavailable: &'static str,
    /// `{}` is the number of changes.
    pub changes_on_phone: &'static str,
    pub not_yet_synced: &'static str,
    pub refused: &'static str,
    /// `{}` is a time of day.
    pub offline_since: &'static str,
    pub connecting: &'static str,
    pub report_fault: &'static str,
    pub fault_title: &'static str,
    pub site: &'static str,
    pub report: &'static str,
    pub my_reports: &'static str,
    pub add_comment: &'static str,
    pub add: &'static str,
    pub take_photo: &'static str,
    pub history: &'static str,
    pub raise_hazard: &'static str,
    /// `{}` is the work order's status.
    pub hazard_raised: &'static str,
    pub history_needs_network: &'static str,
    pub someone: &'static str,
    pub start_round: &'static str,
    pub checklist: &'static str,
    pub place: &'static str,
    pub start: &'static str,
    pub catalog_not_here: &'static str,
    pub template_not_here: &'static str,
    pub round_not_here: &'static str,
    pub rounds: &'static str,
    /// `{answered}` and `{total}` are counts.
    pub answered: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub not_applicable: &'static str,
    pub outside_limits: &'static str,
    pub submit: &'static str,
    pub submitted: &'static str,
    /// `{}` is a count.
    pub still_missing: &'static str,
    pub update_ready: &'static str,
    pub update_now: &'static str,
    pub storage: &'static str,
    /// `{used}` and `{quota}` are sizes.
    pub storage_used: &'static str,
    pub storage_persistent: &'static str,
    pub storage_not_persistent: &'static str,
    pub add_note: &'static str,
    pub all: &'static str,
    pub all_answered: &'static str,
    pub answer: &'static str,
    pub answered_differently: &'static str,
    pub back_to_round: &'static str,
    pub building: &'static str,
    pub camera_unavailable: &'static str,
    pub cancel: &'static str,
    pub clear: &'static str,
    /// `{}` is a count.
    pub conflicts_here: &'static str,
    /// `{}` is a time.
    pub due_by: &'static str,
    pub due_rounds: &'static str,
    pub failed_items: &'static str,
    pub hazard_reported: &'static str,
    pub in_progress: &'static str,
    pub item: &'static str,
    pub keep_this: &'static str,
    pub label_code: &'static str,
    pub next_unanswered: &'static str,
    pub not_signed: &'static str,
    pub not_submitted: &'static str,
    pub notes_and_photos: &'static str,
    pub nothing_due: &'static str,
    pub overdue: &'static str,
    pub pass_rate: &'static str,
    pub photo_on_fail: &'static str,
    pub picture: &'static str,
    pub print: &'static str,
    pub print_report: &'static str,
    pub recently_submitted: &'static str,
    pub review_note: &'static str,
    pub rooms: &'static str,
    pub save: &'static str,
    pub save_signature: &'static str,
    pub scan: &'static str,
    pub score: &'static str,
    pub search: &'static str,
    pub sign_here: &'static str,
    pub started: &'static str,
    /// `{user}` and `{time}`.
    pub submitted_by: &'static str,
    /// `{}` is the code typed or scanned.
    pub unknown_code: &'static str,
    pub qr_labels: &'static str,
    /// Work-order statuses, in the order of `shared::document::work_order::Status`.
    pub statuses: [&'static str; 9],
    pub action_acknowledge: &'static str,
    pub action_assign: &'static str,
    pub action_cancel: &'static str,
    pub action_complete: &'static str,
    pub action_merge: &'static str,
    pub action_pause: &'static str,
    pub action_reopen: &'static str,
    pub action_start: &'static str,
    pub action_verify: &'static str,
    pub asset: &'static str,
    pub assignee: &'static str,
    pub category_label: &'static str,
    pub choose_original: &'static str,
    pub choose_technician: &'static str,
    pub comment: &'static str,
    pub completion_notes: &'static str,
    pub decision: &'static str,
    pub dispatch_queue: &'static str,
    pub due: &'static str,
    pub duplicate_of: &'static str,
    pub event_acknowledged: &'static str,
    /// `{}` is a name.
    pub event_assigned: &'static str,
    pub event_cancelled: &'static str,
    pub event_completed: &'static str,
    pub event_paused: &'static str,
    pub event_reopened: &'static str,
    pub event_reported: &'static str,
    pub event_resolved: &'static str,
    pub event_started: &'static str,
    pub event_verified: &'static str,
    pub flag_duplicate_report: &'static str,
    /// `{user}`, `{event}`, `{status}`.
    pub flag_illegal: &'static str,
    pub flag_other: &'static str,
    pub flags: &'static str,
    pub my_work: &'static str,
    pub no_work: &'static str,
    pub order_not_here: &'static str,
    pub original_order: &'static str,
    pub part_used: &'static str,
    pub add_part: &'static str,
    pub priority_label: &'static str,
    pub quantity: &'static str,
    pub quantity_needed: &'static str,
    pub reason: &'static str,
    pub reason_needed: &'static str,
    pub reported_by: &'static str,
    pub resolve: &'static str,
    pub satisfaction: &'static str,
    pub technician: &'static str,
    pub the_original: &'static str,
    pub timeline: &'static str,
    pub urgency: &'static str,
    /// Priorities, least urgent first (the order of `Priority::ALL`).
    pub priorities: [&'static str; 4],
    /// Categories in the order of `Category::ALL`.
    pub categories: [&'static str; 7],
}

const CHINESE: Texts = Texts {
    app_name: "后勤",
    tagline: "巡检、宿舍检查、报修工单与盘点，离线也能用。",
    nav_settings: "设置",
    this_phone: "本机",
    checking_server: "正在连接服务器…",
    server_reachable: "已连接服务器",
    server_unreachable: "未连接服务器：离线工作，联网后自动同步",
    app_version: "应用版本",
    server_version: "服务器版本",
    settings_title: "设置",
    language: "语言",
    not_found_title: "页面不存在",
    not_found_body: "这个地址没有对应的页面。",
    back_home: "返回首页",
    sign_in_title: "登录",
    username: "用户名",
    password: "密码",
    sign_in: "登录",
    signing_in: "正在登录…",
    wrong_login: "用户名或密码错误",
    too_many_attempts: "失败次数过多，请 {} 秒后再试",
    sign_in_needs_network: "首次登录需要联网；登录后可离线使用",
    sign_in_failed: "登录失败：",
    sign_out: "退出登录",
    signed_in_as: "当前用户",
    my_sites: "我的厂区",
    roles: ["安全巡检员", "宿管员", "维修技术员", "仓库管理员", "经理", "管理员"],
    sign_out_warning: "还有 {} 项更改只在本机，尚未同步。退出登录会删除本机上的数据，这些更改将丢失。仍要退出吗？",
    synced: "已同步",
    syncing: "正在同步…",
    unavailable: "服务器上没有（或无权查看）",
    changes_on_phone: "{} 项更改仅在本机",
    not_yet_synced: "等待同步",
    refused: "服务器未接收（无权限）",
    offline_since: "离线，自 {} 起",
    connecting: "正在连接…",
    report_fault: "报修",
    fault_title: "什么坏了？",
    site: "厂区",
    report: "提交报修",
    my_reports: "工单",
    add_comment: "添加备注",
    add: "添加",
    take_photo: "拍照",
    history: "修改记录",
    raise_hazard: "上报隐患",
    hazard_raised: "已上报隐患，工单状态：{}",
    history_needs_network: "查看修改记录需要联网",
    someone: "未知用户",
    start_round: "开始巡检",
    checklist: "检查表",
    place: "地点",
    start: "开始",
    catalog_not_here: "厂区资料尚未同步到本机",
    template_not_here: "这个检查表还没有同步到本机，请联网后再试",
    round_not_here: "本机上没有这次巡检",
    rounds: "巡检",
    answered: "已完成 {answered} / {total} 项",
    pass: "合格",
    fail: "不合格",
    not_applicable: "不适用",
    outside_limits: "超出范围",
    submit: "提交",
    submitted: "已提交",
    still_missing: "还有 {} 项必填未完成",
    update_ready: "新版本已就绪",
    update_now: "立即更新",
    storage: "本机存储",
    storage_used: "已用 {used}，可用上限 {quota}",
    storage_persistent: "数据已设为持久保存，浏览器不会自动清除",
    storage_not_persistent: "浏览器在空间不足时可能清除数据；请先同步",
    add_note: "添加备注",
    all: "全部",
    all_answered: "所有项目都已回答",
    answer: "结果",
    answered_differently: "两人的回答不同：",
    back_to_round: "返回巡检",
    building: "楼栋",
    camera_unavailable: "无法打开相机，请输入标签上的编码",
    cancel: "取消",
    clear: "清除",
    conflicts_here: "回答不一致的项目：{}，请选择保留哪个",
    due_by: "{} 前",
    due_rounds: "待检",
    failed_items: "不合格项",
    hazard_reported: "已报隐患",
    in_progress: "进行中",
    item: "检查项",
    keep_this: "保留此项",
    label_code: "标签编码",
    next_unanswered: "下一个未答项",
    not_signed: "未签名",
    not_submitted: "未提交",
    notes_and_photos: "备注与照片",
    nothing_due: "暂无待检项目",
    overdue: "已逾期",
    pass_rate: "合格率",
    photo_on_fail: "不合格须拍照",
    picture: "图片",
    print: "打印",
    print_report: "打印报告",
    recently_submitted: "近期已提交",
    review_note: "审核意见",
    rooms: "房间",
    save: "保存",
    save_signature: "保存签名",
    scan: "扫码",
    score: "得分",
    search: "搜索",
    sign_here: "在此签名",
    started: "开始",
    submitted_by: "{user} 于 {time} 提交",
    unknown_code: "找不到编码 {} 对应的地点或设备",
    qr_labels: "打印二维码标签",
    statuses: ["已报修", "已派工", "已接单", "维修中", "已暂停", "已完工", "已验收", "已返修", "已取消"],
    action_acknowledge: "接单",
    action_assign: "派工",
    action_cancel: "取消工单",
    action_complete: "完工",
    action_merge: "合并为重复",
    action_pause: "暂停",
    action_reopen: "返修",
    action_start: "开始维修",
    action_verify: "验收",
    asset: "设备",
    assignee: "维修人",
    category_label: "类别",
    choose_original: "请选择保留的原工单",
    choose_technician: "请选择维修技术员",
    comment: "评价",
    completion_notes: "完工说明",
    decision: "处理决定",
    dispatch_queue: "待派工",
    due: "要求完成时间",
    duplicate_of: "重复于",
    event_acknowledged: "已接单",
    event_assigned: "派给 {}",
    event_cancelled: "已取消",
    event_completed: "已完工",
    event_paused: "已暂停",
    event_reopened: "已返修",
    event_reported: "报修",
    event_resolved: "经理处理",
    event_started: "开始维修",
    event_verified: "已验收",
    flag_duplicate_report: "重复的报修记录",
    flag_illegal: "{user} 的“{event}”与当时的状态“{status}”冲突（离线时各自操作）",
    flag_other: "需要经理处理",
    flags: "待处理冲突",
    my_work: "我的维修任务",
    no_work: "暂无维修任务",
    order_not_here: "本机没有这张工单",
    original_order: "保留的工单",
    part_used: "用料",
    add_part: "再加一项用料",
    priority_label: "紧急程度",
    quantity: "数量",
    quantity_needed: "请填写用料数量",
    reason: "原因",
    reason_needed: "请填写原因",
    reported_by: "报修人",
    resolve: "确认",
    satisfaction: "满意度",
    technician: "维修技术员",
    the_original: "原工单",
    timeline: "处理记录",
    urgency: "紧急程度",
    priorities: ["低", "普通", "高", "紧急"],
    categories: ["空调暖通", "电气", "给排水", "土建门窗", "家具设备", "车辆", "其他"],
};

const ENGLISH: Texts = Texts {
    app_name: "Houqin",
    tagline: "Inspections, dorm checks, work orders and stocktakes, offline too.",
    nav_settings: "Settings",
    this_phone: "This phone",
    checking_server: "Contacting the server…",
    server_reachable: "Connected to the server",
    server_unreachable: "Server not reachable: working offline, will sync when connected",
    app_version: "App version",
    server_version: "Server version",
    settings_title: "Settings",
    language: "Language",
    not_found_title: "Page not found",
    not_found_body: "There is no page at this address.",
    back_home: "Back to the start page",
    sign_in_title: "Sign in",
    username: "User name",
    password: "Password",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    wrong_login: "Wrong user name or password",
    too_many_attempts: "Too many failed attempts; try again in {} seconds",
    sign_in_needs_network: "Signing in needs a connection once; afterwards the app works offline",
    sign_in_failed: "Signing in failed: ",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    my_sites: "My sites",
    roles: ["Inspector", "Dorm staff", "Technician", "Storekeeper", "Manager", "Administrator"],
    sign_out_warning: "Changes on this phone only, not synced yet: {}. Signing out deletes this phone's data and those changes with it. Sign out anyway?",
    synced: "Synced",
    syncing: "Syncing…",
    unavailable: "Not on the server (or not yours to see)",
    changes_on_phone: "Changes on this phone only: {}",
    not_yet_synced: "Waiting to sync",
    refused: "Not accepted by the server (no access)",
    offline_since: "Offline since {}",
    connecting: "Connecting…",
    report_fault: "Report a fault",
    fault_title: "What is broken?",
    site: "Site",
    report: "Report",
    my_reports: "Work orders",
    add_comment: "Add a note",
    add: "Add",
    take_photo: "Take a photo",
    history: "History",
    raise_hazard: "Raise a hazard",
    hazard_raised: "Hazard raised; work order: {}",
    history_needs_network: "The history needs a connection",
    someone: "someone",
    start_round: "Start a round",
    checklist: "Checklist",
    place: "Place",
    start: "Start",
    catalog_not_here: "The site's catalog has not reached this phone yet",
    template_not_here: "This checklist has not reached this phone yet; connect and try again",
    round_not_here: "This round is not on this phone",
    rounds: "Rounds",
    answered: "{answered} of {total} answered",
    pass: "Pass",
    fail: "Fail",
    not_applicable: "N/A",
    outside_limits: "Outside the limits",
    submit: "Submit",
    submitted: "Submitted",
    still_missing: "Required items still open: {}",
    update_ready: "A new version is ready",
    update_now: "Update now",
    storage: "Storage on this phone",
    storage_used: "{used} used of {quota} available",
    storage_persistent: "Kept persistently: the browser will not clear it on its own",
    storage_not_persistent: "The browser may clear this data when space runs low; sync first",
    add_note: "Add a note",
    all: "All",
    all_answered: "Every item is answered",
    answer: "Answer",
    answered_differently: "Two people answered differently:",
    back_to_round: "Back to the round",
    building: "Building",
    camera_unavailable: "The camera is unavailable; type the code on the label",
    cancel: "Cancel",
    clear: "Clear",
    conflicts_here: "Items answered differently: {}; choose which to keep",
    due_by: "by {}",
    due_rounds: "Due",
    failed_items: "Failed items",
    hazard_reported: "Hazard reported",
    in_progress: "In progress",
    item: "Item",
    keep_this: "Keep this",
    label_code: "Label code",
    next_unanswered: "Next unanswered",
    not_signed: "Not signed",
    not_submitted: "Not submitted",
    notes_and_photos: "Notes and photos",
    nothing_due: "Nothing due",
    overdue: "Overdue",
    pass_rate: "Pass rate",
    photo_on_fail: "photo needed if failed",
    picture: "Picture",
    print: "Print",
    print_report: "Print the report",
    recently_submitted: "Recently submitted",
    review_note: "Review note",
    rooms: "Rooms",
    save: "Save",
    save_signature: "Save the signature",
    scan: "Scan",
    score: "Score",
    search: "Search",
    sign_here: "Sign here",
    started: "Started",
    submitted_by: "Submitted by {user} at {time}",
    unknown_code: "No place or asset has the code {}",
    qr_labels: "Print QR labels",
    statuses: ["Reported", "Assigned", "Acknowledged", "In progress", "Paused", "Completed", "Verified", "Reopened", "Cancelled"],
    action_acknowledge: "Acknowledge",
    action_assign: "Assign",
    action_cancel: "Cancel",
    action_complete: "Complete",
    action_merge: "Merge as duplicate",
    action_pause: "Pause",
    action_reopen: "Reopen",
    action_start: "Start",
    action_verify: "Verify",
    asset: "Asset",
    assignee: "Assigned to",
    category_label: "Category",
    choose_original: "Choose the order to keep",
    choose_technician: "Choose a technician",
    comment: "Comment",
    completion_notes: "Completion notes",
    decision: "Decision",
    dispatch_queue: "To dispatch",
    due: "Due",
    duplicate_of: "Duplicate of",
    event_acknowledged: "Acknowledged",
    event_assigned: "Assigned to {}",
    event_cancelled: "Cancelled",
    event_completed: "Completed",
    event_paused: "Paused",
    event_reopened: "Reopened",
    event_reported: "Reported",
    event_resolved: "Manager's decision",
    event_started: "Started",
    event_verified: "Verified",
    flag_duplicate_report: "A second report entry",
    flag_illegal: "{user}'s “{event}” clashes with the status it met, “{status}” (steps taken apart offline)",
    flag_other: "Needs a manager's decision",
    flags: "Needs a decision",
    my_work: "My work",
    no_work: "No work right now",
    order_not_here: "This work order is not on this phone",
    original_order: "The order to keep",
    part_used: "Part used",
    add_part: "Add another part",
    priority_label: "Priority",
    quantity: "Quantity",
    quantity_needed: "Enter the quantity used",
    reason: "Reason",
    reason_needed: "Give a reason",
    reported_by: "Reported by",
    resolve: "Record",
    satisfaction: "Satisfaction",
    technician: "Technician",
    the_original: "the original",
    timeline: "Timeline",
    urgency: "Urgency",
    priorities: ["Low", "Normal", "High", "Urgent"],
    categories: ["Heating and cooling", "Electrical", "Plumbing", "Building", "Furniture", "Vehicle", "Other"],
};

const STORAGE_KEY: &str = "houqin.language";

/// The reader's language, provided to every component.
#[derive(Clone, Copy)]
pub struct CurrentLanguage(pub RwSignal<Language>);

/// Reads the stored or browser language and provides it; keeps `<html lang>` and the
/// stored choice in step with it.
pub fn provide_language() {
    let stored = gloo_storage::LocalStorage::get::<String>(STORAGE_KEY).ok();
    let language = stored.as_deref().and_then(Language::from_tag).unwrap_or_else(browser_language);
    let signal = RwSignal::new(language);
    Effect::new(move || {
        let language = signal.get();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", language.tag());
        }
    });
    provide_context(CurrentLanguage(signal));
}

/// Remembers the reader's choice on this phone.
pub fn choose_language(language: Language) {
    use_context::<CurrentLanguage>().expect("provide_language() runs in App").0.set(language);
    let _ = gloo_storage::LocalStorage::set(STORAGE_KEY, language.tag());
}

impl Texts {
    /// A role's name (as the API spells it, e.g. `dorm_staff`) in this language.
    pub fn role(&self, role: &str) -> &'static str {
        use shared::directory::Role;
        match Role::parse(role) {
            Ok(role) => self.roles[Role::ALL.iter().position(|known| *known == role).expect("every role is in ALL")],
            Err(_) => "?",
        }
    }

    /// A work order's status in this language.
    pub fn status(&self, status: shared::document::work_order::Status) -> &'static str {
        use shared::document::work_order::Status;
        let index = match status {
            Status::Reported => 0,
            Status::Assigned => 1,
            Status::Acknowledged => 2,
            Status::InProgress => 3,
            Status::Paused => 4,
            Status::Completed => 5,
            Status::Verified => 6,
            Status::Reopened => 7,
            Status::Cancelled => 8,
        };
        self.statuses[index]
    }

    /// A work order's priority in this language.
    pub fn priority(&self, priority: shared::document::work_order::Priority) -> &'static str {
        use shared::document::work_order::Priority;
        self.priorities[Priority::ALL.iter().position(|known| *known == priority).expect("every priority is in ALL")]
    }

    /// A work order's category in this language.
    pub fn category(&self, category: shared::document::work_order::Category) -> &'static str {
        use shared::document::work_order::Category;
        self.categories[Category::ALL.iter().position(|known| *known == category).expect("every category is in ALL")]
    }
}

/// The texts in the reader's language, as a signal.
pub fn use_texts() -> Signal<&'static Texts> {
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    Signal::derive(move || language.get().texts())
}

fn browser_language() -> Language {
    let languages = window().navigator().languages();
    let tags: Vec<String> = languages.iter().filter_map(|tag| tag.as_string()).collect();
    Language::from_preferences(tags.iter().map(String::as_str))
}

