//! Our client role against samod, the Rust automerge-repo implementation from crates.io,
//! running unpatched as a server on axum.

use std::time::Duration;

use automerge::transaction::Transactable as _;
use automerge::{ROOT, ReadDoc as _};
use axum::extract::ws::WebSocketUpgrade;
use axum::routing::get;
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use tests::native_client::{now, sync_until};

#[tokio::test]
async fn our_client_syncs_with_a_samod_server() {
    let repo = samod::Repo::build_tokio().load().await;
    let acceptor = repo.make_acceptor(url::Url::parse("ws://127.0.0.1/").unwrap()).unwrap();
    let app = axum::Router::new().route(
        "/",
        get(move |upgrade: WebSocketUpgrade| {
            let acceptor = acceptor.clone();
            async move {
                // samod drives the connection from here on.
                upgrade.on_upgrade(move |socket| async move {
                    acceptor.accept_axum(socket, None).expect("samod is running");
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let patience = Duration::from_secs(60);
    let documents: Vec<DocumentId> = (0..20u8).map(|index| DocumentId::from_random([index ^ 0x5a; 16])).collect();
    let all_synced = |client: &Client| documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced));
    let mut writer = Client::new(ClientConfig::new(PeerId("native-writer".into())), now());
    for (index, document) in documents.iter().enumerate() {
        let mut doc = automerge::AutoCommit::new();
        doc.put(ROOT, "index", index as i64).unwrap();
        doc.commit();
        writer.add_document(*document, doc);
    }
    sync_until(&mut writer, &url, patience, all_synced).await.unwrap();

    let mut reader = Client::new(ClientConfig::new(PeerId("native-reader".into())), now());
    for document in &documents {
        reader.request_document(*document);
    }
    sync_until(&mut reader, &url, patience, all_synced).await.unwrap();
    for (index, document) in documents.iter().enumerate() {
        let (value, _) = reader.document(document).unwrap().get(ROOT, "index").unwrap().expect("arrived from samod");
        assert_eq!(value.as_i64(), Some(index as i64));
    }

    let _ = stop.send(());
    repo.stop().await;
    server.await.unwrap().unwrap();
}
