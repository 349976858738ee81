//! `GET /api/sites/{site}/labels.svg`: a printable A4 sheet of QR labels for a site's
//! places, assets and meters, read from the site's catalog.
//!
//! Each label is a QR code of the URL that opens the place or asset in the app,
//! `https://HOST/l/<code>` (`--public-url`, else the address the sheet was asked at), so a
//! phone's own camera app or WeChat's scanner opens Houqin there; the code (the place's
//! `code` or the asset's `tag`, what the app's typed-code field takes) and the name are
//! printed under it. A page is 3 columns × 8 rows of 70 × 37 mm
//! labels, the common 24-up A4 label sheet, with faint dashed cut lines for plain paper.
//!
//! One response is one page: an SVG of `210mm` × `297mm` with its `viewBox` in millimetres,
//! so a browser prints it at true size. Several pages of labels are asked for one at a time
//! with `page`; the `X-Page-Count` header says how many there are. (One tall SVG of many
//! pages does not reliably break into pages when printed.)
//!
//! The query:
//! - `places=id,id`, `assets=id,id` and/or `meters=id,id`: exactly these labels, places
//!   first, then assets, then meters, each list in its order; an id named twice prints
//!   twice (a room with two doors). A meter's label opens it to enter a reading.
//! - none: every building, room and area (floors have no door to label) sorted by
//!   code, then every asset sorted by tag; entries without a code are left out (meters
//!   only when named).
//! - `page=n`, from 1 (default 1).
//! - `token=…`, which the [`LinkSession`] extractor takes like a bearer header, so a plain
//!   link opens the sheet.
//!
//! 400 names unknown ids, selected entries without a code, or a page past the end. Only an
//! admin or manager at the site gets the sheet; anyone else gets 404, as for a site that
//! does not exist.

use anyhow::Context;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qrcode::{Color, QrCode};
use serde::Deserialize;
use shared::directory::{Role, SiteId};
use shared::document::catalog::{Asset, CatalogView, Meter, Place, PlaceKind, SiteCatalog};
use shared::protocol::DocumentId;

use crate::auth::LinkSession;
use crate::reach::AppUrl;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sites/{site}/labels.svg", get(label_sheet))
}

/// Labels across a page.
const COLUMNS: usize = 3;
/// Labels down a page.
const ROWS: usize = 8;
/// Labels on one page.
pub const LABELS_PER_PAGE: usize = COLUMNS * ROWS;
const PAGE_WIDTH: f64 = 210.0;
const PAGE_HEIGHT: f64 = 297.0;
const LABEL_WIDTH: f64 = PAGE_WIDTH / COLUMNS as f64;
const LABEL_HEIGHT: f64 = 37.0;
/// The millimetre left over by 8 rows of 37 mm, split above and below.
const PAGE_TOP: f64 = (PAGE_HEIGHT - ROWS as f64 * LABEL_HEIGHT) / 2.0;
/// The QR code's square, quiet zone included, centred at the top of a label.
const QR_SIZE: f64 = 24.0;
const QR_TOP: f64 = 1.0;
/// The light margin a scanner needs around the code, in modules (the standard's four).
const QUIET_ZONE: usize = 4;
const CODE_BASELINE: f64 = 29.5;
const CODE_FONT_SIZE: f64 = 3.8;
const NAME_BASELINE: f64 = 34.5;
const NAME_FONT_SIZE: f64 = 3.0;
/// Text wider than this is squeezed to fit.
const TEXT_WIDTH: f64 = LABEL_WIDTH - 4.0;
/// Faces that hold Chinese names (and Latin codes) on Linux, macOS and Windows.
const FONT_FAMILY: &str = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

#[derive(Deserialize)]
struct LabelQuery {
    places: Option<String>,
    assets: Option<String>,
    meters: Option<String>,
    page: Option<String>,
}

/// One label: what the QR code says (and is printed under it), and the name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Label {
    code: String,
    name: String,
}

async fn label_sheet(
    State(state): State<AppState>,
    LinkSession(session): LinkSession,
    url: AppUrl,
    Path(site): Path<String>,
    query: Result<Query<LabelQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    // A malformed site id, a site the user has no say at and a missing site answer alike.
    let site = SiteId::parse(&site).map_err(|_| AppError::NotFound)?;
    if !matches!(session.role_at(&site), Some(Role::Admin | Role::Manager)) {
        return Err(AppError::NotFound);
    }
    let record = state.directory.site(&site)?.ok_or(AppError::NotFound)?;
    let Query(query) = query.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let (places, assets, meters) = match record.catalog {
        Some(catalog) => {
            let view = load_catalog(&state, catalog).await?;
            (view.places, view.assets, view.meters)
        }
        // A site written before catalogs existed has nothing to label.
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let labels = select(&places, &assets, &meters, &query)?;
    let pages = labels.len().div_ceil(LABELS_PER_PAGE).max(1);
    let page = page_number(query.page.as_deref(), pages)?;
    let on_page = labels.chunks(LABELS_PER_PAGE).nth(page - 1).unwrap_or_default();
    let title = format!("{} 二维码标签 QR labels, {page}/{pages}", record.name);
    let svg = render_page(&title, &url.0, on_page)?;
    let filename = if pages == 1 { format!("labels-{}.svg", site.as_str()) } else { format!("labels-{}-{page}.svg", site.as_str()) };
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
        (HeaderName::from_static("x-page-count"), pages.to_string()),
        // Opened on its own, the sheet runs nothing and loads nothing.
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, svg).into_response())
}

/// Reads the stored catalog on the blocking pool (sled reads, and a big index takes
/// tens of milliseconds to read).
async fn load_catalog(state: &AppState, catalog: DocumentId) -> Result<CatalogView, AppError> {
    let store = state.documents.clone();
    let read = tokio::task::spawn_blocking(move || -> anyhow::Result<CatalogView> {
        let doc = store.load(&catalog)?.with_context(|| format!("the site's catalog {catalog} is not stored"))?;
        SiteCatalog::from_doc(doc).and_then(|catalog| catalog.read()).with_context(|| format!("the site's catalog {catalog} is unreadable"))
    });
    Ok(read.await.context("the catalog task failed")??)
}

/// The labels the query asks for; see the module doc.
fn select(places: &[Place], assets: &[Asset], meters: &[Meter], query: &LabelQuery) -> Result<Vec<Label>, AppError> {
    let places: Vec<Candidate<'_>> = places
        .iter()
        .map(|place| Candidate {
            id: place.id.as_str(),
            label: Label { code: place.code.clone(), name: place.name.clone() },
            by_default: place.kind != PlaceKind::Floor,
        })
        .collect();
    let assets: Vec<Candidate<'_>> = assets
        .iter()
        .map(|asset| Candidate {
            id: asset.id.as_str(),
            label: Label { code: asset.tag.clone(), name: asset.name.clone() },
            by_default: true,
        })
        .collect();
    let meters: Vec<Candidate<'_>> = meters
        .iter()
        .map(|meter| Candidate {
            id: meter.id.as_str(),
            label: Label { code: meter.tag.clone(), name: meter.name.clone() },
            by_default: false,
        })
        .collect();
    let wanted_places = ids(query.places.as_deref());
    let wanted_assets = ids(query.assets.as_deref());
    let wanted_meters = ids(query.meters.as_deref());
    if wanted_places.is_empty() && wanted_assets.is_empty() && wanted_meters.is_empty() {
        return Ok([places, assets].into_iter().flat_map(everything_by_default).collect());
    }
    let mut problems = Vec::new();
    let mut labels = pick("place", &places, &wanted_places, &mut problems);
    labels.extend(pick("asset", &assets, &wanted_assets, &mut problems));
    labels.extend(pick("meter", &meters, &wanted_meters, &mut problems));
    if problems.is_empty() { Ok(labels) } else { Err(AppError::BadRequest(format!("cannot print these labels: {}", problems.join("; ")))) }
}

/// A place, asset or meter that could have a label.
struct Candidate<'a> {
    id: &'a str,
    label: Label,
    /// Printed when the query names nothing.
    by_default: bool,
}

/// The ids of a comma-separated list; empty items are ignored.
fn ids(list: Option<&str>) -> Vec<&str> {
    list.unwrap_or_default().split(',').map(str::trim).filter(|id| !id.is_empty()).collect()
}

fn everything_by_default(candidates: Vec<Candidate<'_>>) -> Vec<Label> {
    let mut labels: Vec<Label> = candidates
        .into_iter()
        .filter(|candidate| candidate.by_default && !candidate.label.code.is_empty())
        .map(|candidate| candidate.label)
        .collect();
    labels.sort_by(|first, second| first.code.cmp(&second.code));
    labels
}

/// The labels of the `wanted` ids in their order; what cannot be printed goes to `problems`.
fn pick(kind: &str, candidates: &[Candidate<'_>], wanted: &[&str], problems: &mut Vec<String>) -> Vec<Label> {
    let mut unknown = Vec::new();
    let mut without_code = Vec::new();
    let mut labels = Vec::new();
    for id in wanted {
        match candidates.iter().find(|candidate| candidate.id == *id) {
            None => unknown.push(*id),
            Some(candidate) if candidate.label.code.is_empty() => without_code.push(*id),
            Some(candidate) => labels.push(candidate.label.clone()),
        }
    }
    if !unknown.is_empty() {
        problems.push(format!("no {kind} with id {} at this site", unknown.join(", ")));
    }
    if !without_code.is_empty() {
        problems.push(format!("{kind} {} has no code to print", without_code.join(", ")));
    }
    labels
}

/// The 1-based page asked for, checked against how many there are.
fn page_number(asked: Option<&str>, pages: usize) -> Result<usize, AppError> {
    let page = match asked.map(str::trim) {
        None | Some("") => 1,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| AppError::BadRequest(format!("page {text:?} is not a page number; pages count from 1")))?,
    };
    if page > pages {
        return Err(AppError::BadRequest(format!("there is no page {page}: these labels fill {pages} page(s)")));
    }
    Ok(page)
}

/// One A4 page of at most [`LABELS_PER_PAGE`] labels, filled row by row.
fn render_page(title: &str, app_url: &str, labels: &[Label]) -> Result<String, AppError> {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{PAGE_WIDTH}mm\" height=\"{PAGE_HEIGHT}mm\" viewBox=\"0 0 {PAGE_WIDTH} {PAGE_HEIGHT}\">\n<title>{}</title>\n<rect width=\"{PAGE_WIDTH}\" height=\"{PAGE_HEIGHT}\" fill=\"#fff\"/>\n",
        escape(title)
    );
    let mut cut_lines = String::new();
    svg.push_str(&format!("<g font-family=\"{FONT_FAMILY}\" text-anchor=\"middle\" fill=\"#000\">\n"));
    for (index, label) in labels.iter().enumerate() {
        let left = (index % COLUMNS) as f64 * LABEL_WIDTH;
        let top = PAGE_TOP + (index / COLUMNS) as f64 * LABEL_HEIGHT;
        cut_lines.push_str(&format!("M{} {}h{LABEL_WIDTH}v{LABEL_HEIGHT}h-{LABEL_WIDTH}z", rounded(left), rounded(top)));
        let link = format!("{app_url}{}", shared::routes::label_path(&label.code));
        let code = QrCode::new(link.as_bytes())
            .map_err(|error| AppError::BadRequest(format!("the code {:?} cannot be a QR code: {error}", label.code)))?;
        let modules = code.width() + 2 * QUIET_ZONE;
        let scale = rounded(QR_SIZE / modules as f64);
        let qr_left = rounded((LABEL_WIDTH - QR_SIZE) / 2.0);
        svg.push_str(&format!("<g transform=\"translate({} {})\">\n", rounded(left), rounded(top)));
        svg.push_str(&format!(
            "<path class=\"qr\" transform=\"translate({qr_left} {QR_TOP}) scale({scale})\" shape-rendering=\"crispEdges\" d=\"{}\"/>\n",
            module_path(&code)
        ));
        svg.push_str(&text_line(&label.code, CODE_BASELINE, CODE_FONT_SIZE, " font-weight=\"bold\""));
        svg.push_str(&text_line(&label.name, NAME_BASELINE, NAME_FONT_SIZE, ""));
        svg.push_str("</g>\n");
    }
    svg.push_str("</g>\n");
    if !cut_lines.is_empty() {
        svg.push_str(&format!(
            "<path class=\"cut\" fill=\"none\" stroke=\"#bbb\" stroke-width=\"0.1\" stroke-dasharray=\"1 1\" d=\"{cut_lines}\"/>\n"
        ));
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

/// A QR code of `text` as a square SVG image, black on white with its quiet zone.
pub(crate) fn qr_svg(text: &str) -> anyhow::Result<String> {
    let code = QrCode::new(text.as_bytes()).context("the text does not fit a QR code")?;
    let size = code.width() + 2 * QUIET_ZONE;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path shape-rendering=\"crispEdges\" d=\"{}\"/></svg>",
        module_path(&code)
    ))
}

/// The dark modules as one path in module units, the quiet zone included: each run of
/// dark modules in a row is one rectangle, so the path stays small.
fn module_path(code: &QrCode) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|color| **color == Color::Dark).count();
            path.push_str(&format!("M{} {}h{run}v1h-{run}z", x + QUIET_ZONE, y + QUIET_ZONE));
            x += run;
        }
    }
    path
}

/// A centred line of text at `baseline`, squeezed if it would run past the label's edges.
fn text_line(text: &str, baseline: f64, font_size: f64, attributes: &str) -> String {
    let fit = if estimated_width(text, font_size) > TEXT_WIDTH {
        format!(" textLength=\"{TEXT_WIDTH}\" lengthAdjust=\"spacingAndGlyphs\"")
    } else {
        String::new()
    };
    format!(
        "<text x=\"{}\" y=\"{baseline}\" font-size=\"{font_size}\"{attributes}{fit}>{}</text>\n",
        rounded(LABEL_WIDTH / 2.0),
        escape(text)
    )
}

/// A generous guess at a text's width without the font: Chinese (and other wide)
/// characters are a square em, everything else about 0.6 em.
fn estimated_width(text: &str, font_size: f64) -> f64 {
    text.chars().map(|character| if u32::from(character) >= 0x1100 { 1.0 } else { 0.6 }).sum::<f64>() * font_size
}

/// Text for XML character data or a quoted attribute: markup characters become entities,
/// and characters XML cannot hold (most control characters) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// Millimetres to a thousandth: enough for a printer, short in the file.
fn rounded(millimetres: f64) -> f64 {
    (millimetres * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a path written by [`module_path`] back into a matrix of dark modules.
    fn modules_of(path: &str, width: usize) -> Vec<bool> {
        let mut dark = vec![false; width * width];
        for rectangle in path.split('z').filter(|part| !part.is_empty()) {
            let (start, rest) = rectangle.strip_prefix('M').unwrap().split_once('h').unwrap();
            let (x, y) = start.split_once(' ').unwrap();
            let (run, rest) = rest.split_once('v').unwrap();
            assert_eq!(rest, format!("1h-{run}"), "a run is one module high: {rectangle}");
            let (x, y, run): (usize, usize, usize) = (x.parse().unwrap(), y.parse().unwrap(), run.parse().unwrap());
            let (x, y) = (x - QUIET_ZONE, y - QUIET_ZONE);
            for module in &mut dark[y * width + x..y * width + x + run] {
                assert!(!*module, "modules are drawn once");
                *module = true;
            }
        }
        dark
    }

    #[test]
    fn the_drawn_modules_are_exactly_the_codes_matrix() {
        for text in ["HQ-A-101", "XF-HQ-001", "p2-d1-101", "宿舍-1", &"LONG-CODE-".repeat(12)] {
            let code = QrCode::new(text.as_bytes()).unwrap();
            let expected: Vec<bool> = code.to_colors().into_iter().map(|color| color == Color::Dark).collect();
            assert_eq!(modules_of(&module_path(&code), code.width()), expected, "{text}");
        }
    }

    #[test]
    fn each_qr_code_holds_its_labels_url_and_the_code_is_printed_under_it() {
        let labels =
            [Label { code: "HQ-A-101".into(), name: "101 会议室".into() }, Label { code: "一号楼 2F".into(), name: String::new() }];
        let svg = render_page("t", "https://houqin.lan:8443", &labels).unwrap();
        for (code, url) in [
            ("HQ-A-101", "https://houqin.lan:8443/l/HQ-A-101"),
            ("一号楼 2F", "https://houqin.lan:8443/l/%E4%B8%80%E5%8F%B7%E6%A5%BC%202F"),
        ] {
            let path = module_path(&QrCode::new(url.as_bytes()).unwrap());
            assert!(svg.contains(&format!("d=\"{path}\"")), "no QR code of {url}");
            assert!(svg.contains(&format!(">{code}</text>")), "{code} is printed");
        }
    }

    #[test]
    fn names_are_escaped_and_long_ones_squeezed() {
        let line = text_line("<A&B> \"总部\" 'x'\u{1}", NAME_BASELINE, NAME_FONT_SIZE, "");
        assert!(line.contains(">&lt;A&amp;B&gt; &quot;总部&quot; &apos;x&apos;\u{fffd}</text>"), "{line}");
        assert!(!line.contains("textLength"), "a short name keeps its size: {line}");
        let long = text_line(&"宿舍楼".repeat(10), NAME_BASELINE, NAME_FONT_SIZE, "");
        assert!(long.contains(&format!("textLength=\"{TEXT_WIDTH}\"")), "{long}");
    }

    #[test]
    fn pages_count_from_one_and_end_at_the_last() {
        assert_eq!(page_number(None, 1).unwrap(), 1);
        assert_eq!(page_number(Some("2"), 2).unwrap(), 2);
        for (asked, pages) in [("0", 1), ("x", 1), ("3", 2)] {
            assert!(matches!(page_number(Some(asked), pages), Err(AppError::BadRequest(_))), "page {asked} of {pages}");
        }
    }

    #[test]
    fn a_page_holds_three_columns_of_eight_rows_within_a4() {
        let labels: Vec<Label> = (0..LABELS_PER_PAGE).map(|index| Label { code: format!("C-{index}"), name: String::new() }).collect();
        let svg = render_page("t", "https://houqin.lan", &labels).unwrap();
        assert_eq!(svg.matches("class=\"qr\"").count(), 24);
        let last_top = PAGE_TOP + (ROWS - 1) as f64 * LABEL_HEIGHT;
        assert!(svg.contains(&format!("<g transform=\"translate({} {last_top})\">", 2.0 * LABEL_WIDTH)), "{svg}");
        assert!(last_top + LABEL_HEIGHT <= PAGE_HEIGHT && COLUMNS as f64 * LABEL_WIDTH <= PAGE_WIDTH);
    }
}
