//! The app's budgets, measured in headless Chromium with the CPU slowed four times (CDP's
//! `Emulation.setCPUThrottlingRate`), as on a cheap phone: the first screen on a first
//! visit (over the network) and on a later one (from the service worker and IndexedDB),
//! opening an inspection of 100 items, and opening a site catalog of 5,000 places (and
//! listing them all); then, over an emulated 4G and Fast 3G link ([`link`]), a first visit
//! and a new release's download ([`release`]). Prints Markdown tables for BENCHMARKS.md.
//!
//! The server is reached as a site deploys it: over HTTPS by a host name on its network
//! (mapped to loopback inside Chromium), with the certificate `tls init` makes.
//!
//! usage: app_bench --dist <dist> [--runs N] [--throttle RATE] [--profile DIR]
//! (`cargo xtask bench-app` builds and runs it; RATE 4 unless given, 1 for no slowing;
//! `--profile` writes Chromium's CPU profile of each timed route to DIR, as
//! `inspection-N.cpuprofile` and `catalog-N.cpuprofile`, for DevTools or a script)
//!
//! Each time runs from the moment the page starts (a navigation) or the link is followed
//! (a route inside the app) to the first animation frame in which what is timed is on the
//! screen, read by the page's own clock (`performance.now()`).

mod link;
mod release;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use automerge::ActorId;
use serde_json::{Value, json};
use shared::directory::{SiteId, Username};
use shared::document::catalog::{IndexEntry, Place, PlaceKind, SiteCatalog};
use shared::document::inspection::{Inspection, NewInspection};
use shared::document::template::{Checklist, ChecklistItem, ItemKind, Label, Section};
use shared::document::{DocumentType, Edit, EntryId};
use shared::protocol::DocumentId;
use tests::chromium::{Browser, Cdp};
use tests::native_client::now;

const ITEMS: usize = 100;
const PLACES: usize = 5_000;
/// How many places the catalog page lists before "show all" (the app's `LISTED_ROWS`).
const LISTED_PLACES: usize = 200;
/// More items than a 360 × 800 screen shows at once: what opening a round is timed to.
const SCREENFUL: usize = 10;
/// The server's name on the site's network.
const NAME: &str = "houqin.lan";

/// Times `route` with `follow`, and when `profile` names a file, records Chromium's CPU
/// profile of it there (sampling every 100 µs).
async fn follow_profiled(
    browser: &Browser,
    route: &str,
    selector: &str,
    counts: &[usize],
    profile: Option<PathBuf>,
) -> anyhow::Result<Vec<f64>> {
    let Some(path) = profile else { return follow(browser, route, selector, counts).await };
    browser.client.issue_cmd(Cdp("Profiler.enable", json!({}))).await?;
    browser.client.issue_cmd(Cdp("Profiler.setSamplingInterval", json!({ "interval": 100 }))).await?;
    browser.client.issue_cmd(Cdp("Profiler.start", json!({}))).await?;
    let times = follow(browser, route, selector, counts).await?;
    let stopped = browser.client.issue_cmd(Cdp("Profiler.stop", json!({}))).await?;
    let profile = stopped.get("profile").context("Profiler.stop answered no profile")?;
    std::fs::write(&path, serde_json::to_vec(profile)?).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(times)
}

fn edit(user: &str) -> Edit {
    Edit::new(Username::parse(user).unwrap(), now())
}

/// Adds to hq an inspection of 100 pass/fail items (listed in the site's index, so the
/// phone fetches it) and 5,000 rooms in one building. Returns the inspection's id.
fn seed(storage: &server::Storage) -> anyhow::Result<DocumentId> {
    let store = server::documents::DocumentStore::open(storage)?;
    let hq = SiteId::parse("hq")?;
    let section = EntryId::parse("all")?;
    let items = (0..ITEMS)
        .map(|index| ChecklistItem {
            id: EntryId::parse(&format!("item-{index:03}")).unwrap(),
            section: section.clone(),
            order: index as i64,
            label: Label::new(&format!("检查项 {index}"), &format!("Check {index}")),
            kind: ItemKind::PassFail,
            required: true,
            photo_on_fail: false,
            weight: None,
        })
        .collect();
    let checklist = Checklist {
        name: Label::new("百项检查", "Hundred checks"),
        category: "general".into(),
        version: 1,
        sections: vec![Section { id: section, order: 0, title: Label::new("全部", "All") }],
        items,
    };
    let new = NewInspection {
        site: hq.clone(),
        template: "automerge:bench".into(),
        checklist,
        location: "store".into(),
        rooms: Vec::new(),
        assignees: vec![Username::parse("admin")?],
    };
    let round = Inspection::start(ActorId::from([0xb1; 16]), &new, &edit("admin"))?;
    let round_id = DocumentId::from_random(*b"bench-100-items!");
    store.append(&round_id, &round.into_doc().save())?;

    let directory = server::directory::Directory::open(storage)?;
    let catalog_id = directory.site(&hq)?.and_then(|site| site.catalog).context("hq has a catalog")?;
    let mut doc = store.load(&catalog_id)?.context("the catalog is stored")?;
    let before = doc.get_heads();
    let mut catalog = SiteCatalog::from_doc(doc.with_actor(ActorId::from([0xb2; 16])))?;
    let building = EntryId::parse("bench-building")?;
    catalog.put_place(
        &Place { id: building.clone(), kind: PlaceKind::Building, parent: None, name: "测试楼".into(), code: "BENCH".into() },
        &edit("admin"),
    )?;
    for index in 0..PLACES {
        let place = Place {
            id: EntryId::parse(&format!("bench-{index:04}"))?,
            kind: PlaceKind::Room,
            parent: Some(building.clone()),
            name: format!("{index:04} 室"),
            code: format!("BENCH-{index:04}"),
        };
        catalog.put_place(&place, &edit("admin"))?;
    }
    let entry = IndexEntry {
        document: round_id.url(),
        document_type: DocumentType::Inspection,
        title: "百项检查".into(),
        status: "in_progress".into(),
        location: "store".into(),
        updated_at: now(),
    };
    catalog.index_document(&entry, &edit("admin"))?;
    store.append(&catalog_id, &catalog.into_doc().save_after(&before))?;
    Ok(round_id)
}

/// Milliseconds from the page's start (`performance.now()` = 0 at navigation) to the first
/// frame in which `selector` matches at least `count` elements.
async fn on_screen(browser: &Browser, selector: &str, count: usize) -> anyhow::Result<f64> {
    let script = "const [selector, count, done] = arguments;
        const check = () => document.querySelectorAll(selector).length >= count ? done(performance.now()) : requestAnimationFrame(check);
        check();";
    let time = browser.client.execute_async(script, vec![json!(selector), json!(count)]).await?;
    time.as_f64().context("the page answered no time")
}

/// When the page showed its own sign-in form (`boot.js` marks it), in milliseconds from
/// the navigation; the form is painted in the frame after.
async fn shell_form(browser: &Browser) -> anyhow::Result<f64> {
    let mark = browser.evaluate("return performance.getEntriesByName('houqin-shell-form')[0]?.startTime ?? null").await;
    mark.as_f64().context("the page did not show its own sign-in form")
}

/// Follows a link inside the app (the router handles it, no page load) and gives the
/// milliseconds until `selector` matches at least each of `counts` elements (ascending).
async fn follow(browser: &Browser, href: &str, selector: &str, counts: &[usize]) -> anyhow::Result<Vec<f64>> {
    let script = "const [href, selector, counts, done] = arguments;
        const link = document.createElement('a');
        link.href = href;
        document.querySelector('main').appendChild(link);
        const started = performance.now();
        const times = [];
        const check = () => {
            const found = document.querySelectorAll(selector).length;
            while (times.length < counts.length && found >= counts[times.length]) times.push(performance.now() - started);
            if (times.length === counts.length) done(times); else requestAnimationFrame(check);
        };
        link.click();
        check();";
    let times = browser.client.execute_async(script, vec![json!(href), json!(selector), json!(counts)]).await?;
    serde_json::from_value(times).context("the page answered no times")
}

/// Runs `action` (a script) and gives the milliseconds until `done` (an expression) holds
/// in an animation frame.
async fn after(browser: &Browser, action: &str, done: &str) -> anyhow::Result<f64> {
    let script = format!(
        "const [finish] = arguments;
        const started = performance.now();
        const check = () => ({done}) ? finish(performance.now() - started) : requestAnimationFrame(check);
        {action};
        check();"
    );
    let time = browser.client.execute_async(&script, vec![]).await?;
    time.as_f64().context("the page answered no time")
}

async fn wait_until(browser: &Browser, script: &str) -> anyhow::Result<()> {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(120);
    while browser.evaluate(script).await != Value::Bool(true) {
        anyhow::ensure!(tokio::time::Instant::now() < give_up, "gave up waiting for {script}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut dist, mut runs, mut throttle, mut profiles) = (None, 5, 4.0, None::<PathBuf>);
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--dist" => dist = Some(PathBuf::from(value)),
            "--runs" => runs = value.parse()?,
            "--throttle" => throttle = value.parse()?,
            "--profile" => profiles = Some(PathBuf::from(value)),
            other => anyhow::bail!("unknown flag {other}; usage: app_bench --dist <dist> [--runs N] [--throttle RATE] [--profile DIR]"),
        }
    }
    let dist = dist.context("--dist is required")?.canonicalize()?;
    if let Some(dir) = &profiles {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let profile = |what: &str, run: usize| profiles.as_ref().map(|dir| dir.join(format!("{what}-{run}.cpuprofile")));
    let data = tempfile::tempdir()?;
    let storage = server::Storage::open(data.path())?;
    server::demo::seed(&storage).await?;
    let round = seed(&storage)?;
    server::tls::init(data.path(), &[NAME.to_owned()], &[])?;
    let files = server::tls::TlsFiles::in_data(data.path()).context("tls init made no certificate")?;
    let pin = server::tls::spki_pin(&files)?;
    let switches = [format!("--host-resolver-rules=MAP {NAME} 127.0.0.1"), format!("--ignore-certificate-errors-spki-list={pin}")];
    // The server serves `served`, a link to this release or, later, the next one.
    let releases = tempfile::tempdir()?;
    let (this_release, next_release, served) = (releases.path().join("this"), releases.path().join("next"), releases.path().join("served"));
    release::next(&dist, &next_release)?;
    std::os::unix::fs::symlink(&dist, &this_release)?;
    serve_release(&this_release, &served)?;
    let state = server::AppState::new(storage, served.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let base = format!("https://{NAME}:{}", address.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let certificates = server::tls::Certificates::load(files)?;
    let serving = tokio::spawn(server::serve_tls(listener, certificates.server_config()?, state, async move {
        let _ = stopped.await;
    }));

    let (mut cold, mut warm, mut catalog, mut catalog_all, mut catalog_end) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut inspection_screen, mut inspection) = (Vec::new(), Vec::new());
    for run in 0..runs {
        // A phone that never opened Houqin: everything over the network.
        let browser = phone(&switches, throttle).await?;
        browser.client.goto(&format!("{base}/")).await?;
        cold.push(on_screen(&browser, "[data-form=sign-in] input[name=username]", 1).await?);
        sign_in(&browser).await?;
        // The same phone later: the app from the service worker, the session and the
        // documents from IndexedDB; timed to the signed-in start page.
        browser.client.goto(&format!("{base}/")).await?;
        warm.push(on_screen(&browser, "[data-user]", 1).await?);
        wait_until(&browser, "return document.querySelector('[data-sync]')?.dataset.sync === 'synced'").await?;
        let times =
            follow_profiled(&browser, &format!("/rounds/{round}"), ".item", &[SCREENFUL, ITEMS], profile("inspection", run)).await?;
        inspection_screen.push(times[0]);
        inspection.push(times[1]);
        catalog.push(
            follow_profiled(&browser, "/admin/sites/hq", "[data-list=places] [data-place]", &[LISTED_PLACES], profile("catalog", run))
                .await?[0],
        );
        // "Show all": the list is windowed, so it is ready when the table holds every
        // place and its first rows are drawn; then scrolled to its end, when the last is.
        catalog_all.push(
            after(
                &browser,
                "document.querySelector('[data-action=show-all-places]').click()",
                &format!("Number(document.querySelector('[data-list=places]').dataset.rows) >= {PLACES} && document.querySelectorAll('[data-list=places] [data-place]').length >= {SCREENFUL}"),
            )
            .await?,
        );
        catalog_end.push(
            after(
                &browser,
                "const table = document.querySelector('[data-list=places]'); scrollTo(0, scrollY + table.getBoundingClientRect().bottom - innerHeight)",
                &format!("document.querySelector('[data-list=places] [data-place=BENCH-{:04}]') !== null", PLACES - 1),
            )
            .await?,
        );
        browser.close().await;
    }

    // Over a slow link: a first visit, then a new release.
    let mut slow = Vec::new();
    for link in [link::FOUR_G, link::FAST_3G] {
        let (mut page_form, mut form, mut form_bytes) = (vec![], vec![], vec![]);
        let (mut visit_bytes, mut update, mut update_bytes) = (vec![], vec![], vec![]);
        for _ in 0..runs {
            serve_release(&this_release, &served)?;
            let relay = link::Relay::start(link, address).await?;
            let over_link = format!("https://{NAME}:{}/", relay.address.port());
            let browser = phone(&switches, throttle).await?;
            browser.client.goto(&over_link).await?;
            form.push(on_screen(&browser, "[data-form=sign-in] input[name=username]", 1).await?);
            page_form.push(shell_form(&browser).await?);
            form_bytes.push(relay.downloaded() as f64);
            sign_in(&browser).await?;
            visit_bytes.push(relay.downloaded() as f64);
            // The next release is out: the phone hears of it when it next opens the app,
            // downloads it in the background and offers it.
            serve_release(&next_release, &served)?;
            let before = relay.downloaded();
            browser.client.goto(&over_link).await?;
            update.push(on_screen(&browser, "[data-update=ready]", 1).await?);
            update_bytes.push((relay.downloaded() - before) as f64);
            browser.close().await;
        }
        slow.push((link, median(page_form), median(form), median(form_bytes), median(visit_bytes), median(update), median(update_bytes)));
    }
    let _ = stop.send(());
    serving.await??;
    let shown = |samples: &[f64]| format!("{:.0} ms", median(samples.to_vec()));
    println!("CPU slowed {throttle}×, 360 × 800, median of {runs} fresh browsers:");
    println!();
    println!("| measure | time | budget |");
    println!("|---|---:|---:|");
    println!("| first visit: navigation to the app's sign-in form | {} | — |", shown(&cold));
    println!("| later visit: navigation to the signed-in start page (service worker, IndexedDB) | {} | 1 s |", shown(&warm));
    println!("| open an inspection of {ITEMS} items: its first {SCREENFUL} items on screen | {} | 50 ms |", shown(&inspection_screen));
    println!("| … and all {ITEMS} items in the page | {} | — |", shown(&inspection));
    println!("| open a site catalog of {PLACES} places: its first {LISTED_PLACES} listed | {} | — |", shown(&catalog));
    println!("| … then \"show all\": every place in the (windowed) list, the first drawn | {} | 300 ms |", shown(&catalog_all));
    println!("| … then scrolled to the list's end: the last place drawn | {} | — |", shown(&catalog_end));
    println!();
    println!("Over a slow link (every byte of the page and its service worker through it), CPU slowed {throttle}×, median of {runs}:");
    println!();
    println!(
        "| link | first visit: the page's sign-in form | the app's | downloaded by then | the whole first visit, signed in and synced | a new release: offered | its download |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let kilobytes = |bytes: f64| format!("{:.1} KB", bytes / 1000.0);
    for (link, page_form, form, form_bytes, visit_bytes, update, update_bytes) in slow {
        println!(
            "| {} | {page_form:.0} ms | {form:.0} ms | {} | {} | {update:.0} ms | {} |",
            link.name,
            kilobytes(form_bytes),
            kilobytes(visit_bytes),
            kilobytes(update_bytes)
        );
    }
    Ok(())
}

/// A fresh browser as a phone of 360 × 800 with its CPU slowed `throttle` times.
async fn phone(switches: &[String], throttle: f64) -> anyhow::Result<Browser> {
    let browser = Browser::start_with(switches).await;
    browser.client.set_window_size(360, 800).await?;
    browser.client.issue_cmd(Cdp("Emulation.setCPUThrottlingRate", json!({ "rate": throttle }))).await?;
    Ok(browser)
}

/// Signs in as the administrator on the sign-in form, and waits until everything is
/// synced and the service worker controls the page.
async fn sign_in(browser: &Browser) -> anyhow::Result<()> {
    for (field, value) in [("username", "admin"), ("password", "demo")] {
        browser.client.find(fantoccini::Locator::Css(&format!("input[name={field}]"))).await?.send_keys(value).await?;
    }
    browser.client.find(fantoccini::Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(browser, "return document.querySelector('[data-sync]')?.dataset.sync === 'synced'").await?;
    wait_until(browser, "return navigator.serviceWorker.controller !== null").await
}

/// Points `served` (what the server serves) at `release`.
fn serve_release(release: &Path, served: &Path) -> anyhow::Result<()> {
    let staged = served.with_extension("new");
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(release, &staged)?;
    std::fs::rename(&staged, served).with_context(|| format!("cannot point {} at {}", served.display(), release.display()))
}
