//! Notices as changes reach the server: derived once per event and person, whichever
//! phones bring the change and however often, and not again after a restart.

use std::time::Duration;

use shared::directory::{SiteId, Username};
use shared::document::EntryId;
use shared::document::work_order::{EventKind, Priority, WorkOrder};
use shared::notice::NoticeKind;
use shared::projection::Summary;
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use tests::native_client::{now, sync_until};

use crate::support::{TestServer, wait_for};
use crate::sync::{edit, order_by};

const PATIENCE: Duration = Duration::from_secs(60);

fn phone(name: &str) -> Client {
    Client::new(ClientConfig::new(PeerId(name.to_owned())), now())
}

/// The outbox's notices as (kind, recipient, id).
fn outbox(server: &TestServer) -> Vec<(NoticeKind, String, String)> {
    let mut told: Vec<_> = server
        .state
        .outbox
        .entries()
        .unwrap()
        .into_iter()
        .map(|entry| (entry.notice.kind, entry.notice.recipient.to_string(), entry.notice.id()))
        .collect();
    told.sort();
    told
}

#[tokio::test]
async fn an_assignment_made_offline_and_brought_by_two_phones_is_one_notice_for_the_technician() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let document = DocumentId::from_random(*b"assigned-once-ok");
    let mut reporter = phone("teacher-phone");
    reporter.add_document(document, order_by("inspector", "hq", "走廊灯不亮"));
    let synced = |client: &Client| client.status(&document) == Some(SyncStatus::Synced);
    sync_until(&mut reporter, &server.sync_url("inspector"), PATIENCE, synced).await.unwrap();
    assert!(outbox(&server).is_empty(), "a plain report is the dispatch queue's, told to nobody");

    // Assigned offline on the manager's phone; the same change copied to a second phone
    // of theirs; both reach the server.
    let mut manager = phone("manager-phone");
    manager.request_document(document);
    sync_until(&mut manager, &server.sync_url("manager"), PATIENCE, synced).await.unwrap();
    let doc = std::mem::take(manager.document_mut(&document).unwrap());
    let mut order = WorkOrder::from_doc(doc).unwrap();
    order.record(
        &EntryId::parse("assigned").unwrap(),
        &EventKind::Assigned { assignee: Username::parse("tech").unwrap() },
        &edit("manager"),
    );
    let assigned = order.into_doc();
    let mut tablet = phone("manager-tablet");
    tablet.add_stored_document(document, assigned.clone(), Vec::new());
    *manager.document_mut(&document).unwrap() = assigned;
    manager.handle_local_change(&document);
    tablet.handle_local_change(&document);
    let (manager_url, tablet_url) = (server.sync_url("manager"), server.sync_url("manager"));
    let (first, second) =
        tokio::join!(sync_until(&mut manager, &manager_url, PATIENCE, synced), sync_until(&mut tablet, &tablet_url, PATIENCE, synced));
    first.unwrap();
    second.unwrap();

    let expected = vec![(NoticeKind::Assigned, "tech".to_owned(), format!("{document}/assigned/tech"))];
    wait_for("the assignment's notice", PATIENCE, || async { (outbox(&server) == expected).then_some(()) }).await;
    // Another change to the order (the manager raises its priority) projects it again:
    // nothing new to tell.
    let doc = std::mem::take(manager.document_mut(&document).unwrap());
    let mut order = WorkOrder::from_doc(doc).unwrap();
    order.set_priority(Priority::High, &edit("manager"));
    *manager.document_mut(&document).unwrap() = order.into_doc();
    manager.handle_local_change(&document);
    sync_until(&mut manager, &manager_url, PATIENCE, synced).await.unwrap();
    wait_for("the new priority projected", PATIENCE, || async {
        let projections = server.state.projections.site(&SiteId::parse("hq").unwrap()).unwrap();
        projections
            .iter()
            .any(|projection| {
                projection.document == document.to_string()
                    && matches!(&projection.summary, Summary::WorkOrder(order) if order.priority == Priority::High)
            })
            .then_some(())
    })
    .await;
    assert_eq!(outbox(&server), expected);

    // After a restart, still the one notice.
    let address = server.address;
    let data = server.stop().await.unwrap();
    let server = TestServer::start_at(data, dist.path(), address).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox(&server), expected);
    server.stop().await.unwrap();
}
