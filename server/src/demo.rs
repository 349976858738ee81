//! Demo data for `--demo`: two sites, each with the standard checklist templates and a
//! catalog of places (with the codes their QR labels carry), tagged assets, stock items
//! (hq only) and scheduled rounds, and one user per role, all with password `demo`.
//!
//! Seeding touches only an empty database, so restarting with `--demo` never resets
//! or duplicates anything people have entered since.

use shared::directory::{Role, SiteId, Username};
use shared::document::EntryId;
use shared::document::catalog::Every::{Days, Months, Weeks};
use shared::document::catalog::PlaceKind::{Area, Building, Floor, Room};
use shared::document::catalog::{Meter, MeterKind, RateFor, Vendor};
use shared::document::work_order::Category;
use shared::money::Money;
use shared::quantity::Quantity;
use shared::time::Span;

use crate::directory::{Directory, SiteRecord, UserRecord, hash_password};
use crate::documents::DocumentStore;
use crate::provision::{Starter, StarterMeter, asset, create_site_documents, maintenance, meter, place, schedule, stock_item, stocked};
use crate::{Storage, auth};

/// Headquarters' meters: the admin building's electricity and water, read weekly for 60
/// weeks (a little less used every week, so a year on shows a saving), and the canteen's
/// refrigerator, read on the daily food-safety round (one warm morning three days ago).
fn hq_meters() -> Vec<StarterMeter> {
    let weekly = |first_week: i64, less_each_week: i64| -> Vec<(Span, Quantity)> {
        let mut total = 0;
        (0..=60)
            .map(|week| {
                total += first_week - less_each_week * week;
                (Span::days(7 * (60 - week) + 1), Quantity::units(total))
            })
            .collect()
    };
    let fridge_readings = [4.2, 3.8, 4.5, 5.1, 3.9, 4.4, 9.1, 4.0, 3.6, 4.1].iter().enumerate().map(|(index, celsius)| {
        (Span::days(10 - index as i64).plus(Span::hours(2)), Quantity::from_thousandths((celsius * 1000.0_f64).round() as i64))
    });
    let fridge = Meter {
        unit: "°C".to_owned(),
        low: Some(Quantity::units(0)),
        high: Some(Quantity::units(8)),
        alarm_after: Some(3),
        ..meter("hq-fridge-1", "冷藏柜 1号温度", "bx-hq-c1", MeterKind::Reading, "M-HQ-C1")
    };
    vec![
        StarterMeter {
            meter: meter("hq-power", "行政楼总电表", "pd-hq-a", MeterKind::Electricity, "M-HQ-E1"),
            read_on: None,
            readings: weekly(1_400, 3),
        },
        StarterMeter {
            meter: meter("hq-water", "行政楼总水表", "pd-hq-a", MeterKind::Water, "M-HQ-W1"),
            read_on: None,
            readings: weekly(38, 0),
        },
        StarterMeter { meter: fridge, read_on: Some(("food_safety", "fridge-temperature")), readings: fridge_readings.collect() },
    ]
}

/// The lift company headquarters calls in, on a yearly contract.
fn lift_company() -> Vendor {
    let today = auth::now().plus(Span::hours(8)).day_number();
    Vendor {
        id: EntryId::parse("lifts").expect("a valid entry id"),
        name: "迅达电梯维保".to_owned(),
        trade: Category::Other.as_str().to_owned(),
        contact: "刘工".to_owned(),
        phone: "138 0000 0000".to_owned(),
        contract_from: Some(today - 165),
        contract_to: Some(today + 200),
    }
}

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo";

/// A demo login as printed at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub roles: String,
}

/// A demo user: user name, display name, roles per site.
type DemoUser = (&'static str, &'static str, &'static [(&'static str, Role)]);

const USERS: &[DemoUser] = &[
    ("admin", "系统管理员", &[("hq", Role::Admin), ("plant2", Role::Admin)]),
    ("manager", "王经理", &[("hq", Role::Manager), ("plant2", Role::Manager)]),
    ("inspector", "李安全员", &[("hq", Role::Inspector)]),
    ("dorm", "赵宿管", &[("plant2", Role::DormStaff)]),
    ("tech", "张师傅", &[("hq", Role::Technician), ("plant2", Role::Technician)]),
    ("store", "陈库管", &[("hq", Role::Storekeeper)]),
];

/// Seeds the demo sites and users if the database is empty, and returns the logins either
/// way (a database seeded earlier still has them unless someone changed them).
pub async fn seed(storage: &Storage) -> anyhow::Result<Vec<DemoLogin>> {
    let directory = Directory::open(storage)?;
    if directory.is_empty() {
        let for_seeding = storage.clone();
        let seeding = tokio::task::spawn_blocking(move || seed_directory(&for_seeding, &directory));
        seeding.await??;
        storage.flush().await?;
        tracing::info!("seeded demo sites and users");
    } else {
        tracing::info!("the database already has sites or users; demo data is seeded only into an empty one");
    }
    Ok(logins())
}

fn seed_directory(storage: &Storage, directory: &Directory) -> anyhow::Result<()> {
    // One hash for all: every demo user has the same, published password anyway.
    let password_hash = hash_password(DEMO_PASSWORD)?;
    for (username, display_name, roles) in USERS {
        let roles = roles.iter().map(|(site, role)| Ok((SiteId::parse(site)?, *role))).collect::<anyhow::Result<_>>()?;
        directory.put_user(&UserRecord {
            username: Username::parse(username)?,
            display_name: (*display_name).to_owned(),
            password_hash: password_hash.clone(),
            roles,
            disabled: false,
            token_generation: 0,
        })?;
    }
    let store = DocumentStore::open(storage)?;
    let admin = Username::parse("admin")?;
    let hq_places = [
        place("admin-building", Building, None, "行政楼", "HQ-A"),
        place("admin-1f", Floor, Some("admin-building"), "行政楼 1层", "HQ-A-1"),
        place("admin-101", Room, Some("admin-1f"), "101 会议室", "HQ-A-101"),
        place("admin-102", Room, Some("admin-1f"), "102 档案室", "HQ-A-102"),
        place("canteen", Building, None, "职工食堂", "HQ-C"),
        place("store", Area, None, "后勤仓库", "HQ-S"),
    ];
    let hq_assets = [
        asset("xf-hq-001", "extinguisher", "XF-HQ-001", "admin-1f", "干粉灭火器 1层东"),
        asset("xf-hq-002", "extinguisher", "XF-HQ-002", "admin-1f", "干粉灭火器 1层西"),
        asset("kt-hq-101", "air_conditioner", "KT-HQ-101", "admin-101", "101 会议室空调"),
        asset("pd-hq-a", "switchboard", "PD-HQ-A", "admin-building", "行政楼配电柜"),
        asset("bx-hq-c1", "refrigerator", "BX-HQ-C1", "canteen", "食堂冷藏柜 1号"),
    ];
    let hq_rounds = [
        schedule("hq-fire-daily", "fire_safety", "admin-building", Days(1)),
        schedule("hq-electrical-weekly", "electrical", "admin-building", Weeks(1)),
        schedule("hq-canteen-daily", "food_safety", "canteen", Days(1)),
    ];
    let hq_maintenance = [maintenance("pm-kt-hq-101", "kt-hq-101", "101 会议室空调滤网清洗", Months(1))];
    let hq_stock = [
        stocked(stock_item("bulb-led-9w", "DJ-001", "LED 灯泡 9W", "个", "consumables", "A-01"), 20, 50, 1_250),
        stocked(stock_item("extinguisher-4kg", "XF-004", "干粉灭火器 4kg", "具", "protective_equipment", "B-02"), 4, 3, 9_800),
        stocked(stock_item("gloves", "LB-010", "劳保手套", "双", "protective_equipment", "B-05"), 30, 100, 450),
        stocked(stock_item("a4-paper", "BG-001", "A4 复印纸", "包", "supplies", "C-01"), 10, 30, 2_600),
    ];
    // An hour of a technician's work, and of anyone else's.
    let rates = [(RateFor::Role(Role::Technician), Money::yuan(80)), (RateFor::Everyone, Money::yuan(50))];
    let plant2_places = [
        place("dorm-1", Building, None, "1号宿舍楼", "P2-D1"),
        place("dorm-1-1f", Floor, Some("dorm-1"), "1号宿舍楼 1层", "P2-D1-1"),
        place("dorm-1-101", Room, Some("dorm-1-1f"), "101", "P2-D1-101"),
        place("dorm-1-102", Room, Some("dorm-1-1f"), "102", "P2-D1-102"),
        place("dorm-1-103", Room, Some("dorm-1-1f"), "103", "P2-D1-103"),
        place("workshop", Building, None, "生产车间", "P2-W"),
    ];
    let plant2_assets = [
        asset("xf-p2-001", "extinguisher", "XF-P2-001", "dorm-1-1f", "干粉灭火器 宿舍1层"),
        asset("rsq-p2-101", "water_heater", "RSQ-P2-101", "dorm-1-101", "101 热水器"),
    ];
    let plant2_rounds =
        [schedule("p2-dorm-weekly", "dorm_room", "dorm-1", Weeks(1)), schedule("p2-fire-monthly", "fire_safety", "workshop", Months(1))];
    let starters = [
        (
            "hq",
            "总部",
            Starter {
                templates: true,
                places: &hq_places,
                assets: &hq_assets,
                stock: &hq_stock,
                schedules: &hq_rounds,
                maintenance: &hq_maintenance,
                rates: &rates,
                meters: &hq_meters(),
                vendors: &[lift_company()],
            },
        ),
        (
            "plant2",
            "二厂",
            Starter {
                templates: true,
                places: &plant2_places,
                assets: &plant2_assets,
                stock: &[],
                schedules: &plant2_rounds,
                maintenance: &[],
                rates: &rates,
                meters: &[],
                vendors: &[],
            },
        ),
    ];
    for (id, name, starter) in starters {
        // Headquarters takes reports from anyone who scans a label; the plant does not.
        let public = shared::public::PublicReporting { open: id == "hq", ..Default::default() };
        let mut site = SiteRecord { id: SiteId::parse(id)?, name: name.to_owned(), catalog: None, public };
        create_site_documents(directory, &store, &mut site, &admin, auth::now(), &starter)?;
    }
    Ok(())
}

/// The demo users with their roles, as a newcomer needs them.
pub fn logins() -> Vec<DemoLogin> {
    USERS
        .iter()
        .map(|(username, _, roles)| DemoLogin {
            username: (*username).to_owned(),
            roles: roles.iter().map(|(site, role)| format!("{role}@{site}")).collect::<Vec<_>>().join(", "),
        })
        .collect()
}

/// Prints the demo logins to standard output.
pub fn print_logins(logins: &[DemoLogin]) {
    println!("Demo logins (password \"{DEMO_PASSWORD}\" for all):");
    for login in logins {
        println!("  {:<10} {}", login.username, login.roles);
    }
}
