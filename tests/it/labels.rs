//! The QR label sheet (`GET /api/sites/{site}/labels.svg`) over real sockets with the demo
//! sites, and the demo catalogs' assets and scheduled rounds it prints from.

use reqwest::StatusCode;
use serde_json::Value;
use shared::document::catalog::{CatalogView, Every, PlaceKind, SiteCatalog};

use crate::support::{TestServer, catalog_of, get, http_client};

fn stored_catalog(server: &TestServer, site: &str) -> CatalogView {
    let doc = server.state.documents.load(&catalog_of(server, site)).unwrap().expect("the catalog is stored");
    SiteCatalog::from_doc(doc).unwrap().read().unwrap()
}

/// A sheet as the server sent it, checked for what every sheet must be.
struct Sheet {
    svg: String,
    pages: usize,
    disposition: String,
}

impl Sheet {
    async fn of(response: reqwest::Response) -> Sheet {
        assert_eq!(response.status(), StatusCode::OK);
        let header = |name: &str| response.headers().get(name).unwrap_or_else(|| panic!("no {name}")).to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "image/svg+xml; charset=utf-8");
        let pages = header("x-page-count").parse().unwrap();
        let disposition = header("content-disposition");
        let svg = response.text().await.unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 210 297\""),
            "{svg}"
        );
        assert_well_formed(&svg);
        assert!(svg.contains("'Noto Sans CJK SC'"), "a CJK face is named for the names");
        Sheet { svg, pages, disposition }
    }

    /// The printed codes in order: the bold line under each QR code.
    fn codes(&self) -> Vec<&str> {
        let codes: Vec<&str> =
            self.svg.split("font-weight=\"bold\"").skip(1).map(|rest| rest.split_once('>').unwrap().1.split_once('<').unwrap().0).collect();
        assert_eq!(self.svg.matches("<path class=\"qr\"").count(), codes.len(), "one QR path per label");
        codes
    }

    /// How often `text` is the whole of a text element.
    fn text_count(&self, text: &str) -> usize {
        self.svg.matches(&format!(">{text}</text>")).count()
    }
}

/// A minimal XML check: tags nest and close, and every `&` starts one of XML's entities.
fn assert_well_formed(xml: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let (tag, after) = rest[start + 1..].split_once('>').expect("every tag closes");
        assert!(!tag.contains('<'), "no '<' inside a tag: {tag}");
        let name = tag.trim_start_matches('/').split([' ', '/', '\n']).next().unwrap();
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes what is open");
        } else if !tag.ends_with('/') {
            open.push(name);
        }
        rest = after;
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    for (index, _) in xml.match_indices('&') {
        let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|entity| xml[index..].starts_with(entity));
        assert!(entity, "a bare & at {index}");
    }
}

#[tokio::test]
async fn admins_and_managers_print_every_door_and_asset_of_their_site() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    for (site, user) in [("hq", "admin"), ("plant2", "manager")] {
        let catalog = stored_catalog(&server, site);
        let mut expected: Vec<(&str, &str)> = catalog
            .places
            .iter()
            .filter(|place| place.kind != PlaceKind::Floor)
            .map(|place| (place.code.as_str(), place.name.as_str()))
            .collect();
        expected.sort();
        let mut assets: Vec<(&str, &str)> = catalog.assets.iter().map(|asset| (asset.tag.as_str(), asset.name.as_str())).collect();
        assets.sort();
        expected.extend(assets);

        // A plain link works: the token in the query, as a browser opening it would send.
        let url = server.url(&format!("/api/sites/{site}/labels.svg?token={}", server.token(user)));
        let sheet = Sheet::of(http_client().get(url).send().await.unwrap()).await;
        assert_eq!(sheet.codes(), expected.iter().map(|(code, _)| *code).collect::<Vec<_>>(), "places by code, then assets by tag");
        for (code, name) in &expected {
            assert_eq!(sheet.text_count(code), 1, "{code} printed once");
            assert_eq!(sheet.text_count(name), 1, "{name} printed once");
        }
        let floors: Vec<&str> =
            catalog.places.iter().filter(|place| place.kind == PlaceKind::Floor).map(|place| place.code.as_str()).collect();
        assert!(!floors.is_empty() && floors.iter().all(|floor| sheet.text_count(floor) == 0), "floors get no label unless asked for");
        assert_eq!((sheet.pages, sheet.disposition.as_str()), (1, format!("inline; filename=\"labels-{site}.svg\"").as_str()));
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_selection_prints_only_those_labels_in_its_order_page_by_page() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let admin = server.token("admin");
    let path = "/api/sites/hq/labels.svg?places=canteen,admin-1f,admin-101&assets=kt-hq-101";
    let sheet = Sheet::of(get(&server, path, Some(&admin)).await).await;
    assert_eq!(sheet.codes(), ["HQ-C", "HQ-A-1", "HQ-A-101", "KT-HQ-101"], "a floor prints when asked for");
    assert_eq!(sheet.text_count("101 会议室空调"), 1);

    // Only assets: no places by default alongside.
    let sheet = Sheet::of(get(&server, "/api/sites/hq/labels.svg?assets=xf-hq-002", Some(&admin)).await).await;
    assert_eq!(sheet.codes(), ["XF-HQ-002"]);
    // Meters when named: their labels open them to enter a reading.
    let sheet = Sheet::of(get(&server, "/api/sites/hq/labels.svg?meters=hq-fridge-1,hq-power", Some(&admin)).await).await;
    assert_eq!(sheet.codes(), ["M-HQ-C1", "M-HQ-E1"]);
    assert_eq!(sheet.text_count("冷藏柜 1号温度"), 1);

    // 25 labels (a room with many doors) fill two pages, asked for one at a time.
    let doors = vec!["admin-102"; 25].join(",");
    let first = Sheet::of(get(&server, &format!("/api/sites/hq/labels.svg?places={doors}"), Some(&admin)).await).await;
    assert_eq!((first.codes().len(), first.pages), (24, 2));
    assert_eq!(first.disposition, "inline; filename=\"labels-hq-1.svg\"");
    let second = Sheet::of(get(&server, &format!("/api/sites/hq/labels.svg?places={doors}&page=2"), Some(&admin)).await).await;
    assert_eq!((second.codes(), second.pages), (vec!["HQ-A-102"], 2));

    for (query, named) in [
        ("places=admin-101,nowhere,attic&assets=ghost", &["nowhere", "attic", "ghost"][..]),
        ("meters=no-such-meter", &["no-such-meter"][..]),
        ("places=admin-101&page=3", &["page 3"][..]),
        ("page=none", &["none"][..]),
        // Another site's place is unknown here.
        ("places=dorm-1", &["dorm-1"][..]),
    ] {
        let response = get(&server, &format!("/api/sites/hq/labels.svg?{query}"), Some(&admin)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"].as_str().unwrap();
        assert!(named.iter().all(|name| message.contains(name)), "{query}: {message}");
        assert!(!message.contains("admin-101"), "only what is wrong is named: {message}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn no_one_else_learns_of_a_sheet() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let not_found = [
        ("inspector", "hq"), // a role at the site, but not admin or manager
        ("store", "hq"),
        ("inspector", "plant2"), // no role there at all
        ("dorm", "plant2"),
        ("admin", "nowhere"), // no such site
        ("admin", "Not%20A%20Site"),
    ];
    for (user, site) in not_found {
        let response = get(&server, &format!("/api/sites/{site}/labels.svg"), Some(&server.token(user))).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{user} at {site}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "not found");
    }
    assert_eq!(get(&server, "/api/sites/hq/labels.svg", None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(get(&server, "/api/sites/hq/labels.svg?token=forged", None).await.status(), StatusCode::UNAUTHORIZED);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_demo_catalogs_have_tagged_assets_and_scheduled_rounds() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let expected = [
        (
            "hq",
            &[
                ("XF-HQ-001", "extinguisher", "admin-1f"),
                ("XF-HQ-002", "extinguisher", "admin-1f"),
                ("KT-HQ-101", "air_conditioner", "admin-101"),
                ("PD-HQ-A", "switchboard", "admin-building"),
                ("BX-HQ-C1", "refrigerator", "canteen"),
            ][..],
            &[
                ("fire_safety", "admin-building", Every::Days(1)),
                ("electrical", "admin-building", Every::Weeks(1)),
                ("food_safety", "canteen", Every::Days(1)),
            ][..],
        ),
        (
            "plant2",
            &[("XF-P2-001", "extinguisher", "dorm-1-1f"), ("RSQ-P2-101", "water_heater", "dorm-1-101")][..],
            &[("dorm_room", "dorm-1", Every::Weeks(1)), ("fire_safety", "workshop", Every::Months(1))][..],
        ),
    ];
    for (site, assets, rounds) in expected {
        let catalog = stored_catalog(&server, site);
        let mut found: Vec<(&str, &str, &str)> = catalog
            .assets
            .iter()
            .map(|asset| (asset.tag.as_str(), asset.asset_type.as_str(), asset.place.as_ref().map_or("", |place| place.as_str())))
            .collect();
        let mut wanted = assets.to_vec();
        found.sort();
        wanted.sort();
        assert_eq!(found, wanted, "{site}'s assets");
        assert!(
            catalog.assets.iter().all(|asset| catalog.places.iter().any(|place| Some(&place.id) == asset.place.as_ref())),
            "every asset is at a place of {site}"
        );

        let mut found: Vec<(&str, &str, Every)> = Vec::new();
        for schedule in &catalog.schedules {
            let template = catalog
                .templates
                .iter()
                .find(|template| template.document == schedule.template)
                .expect("a schedule names a template of its site");
            assert!(template.document.starts_with("automerge:"), "{}", template.document);
            assert!(
                server.state.documents.load(&shared::protocol::DocumentId::parse(&template.document).unwrap()).unwrap().is_some(),
                "the template is stored"
            );
            assert!(catalog.places.iter().any(|place| place.id == schedule.place), "a schedule is at a place of {site}");
            assert_eq!(schedule.start, catalog.header.created_at, "rounds recur from the seeding");
            found.push((template.category.as_str(), schedule.place.as_str(), schedule.every));
        }
        let mut wanted = rounds.to_vec();
        found.sort_by_key(|round| format!("{round:?}"));
        wanted.sort_by_key(|round| format!("{round:?}"));
        assert_eq!(found, wanted, "{site}'s rounds");
    }
    server.stop().await.unwrap();
}
