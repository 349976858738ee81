//! Houqin's integration tests, one binary: the server on port 0 with real sockets, the
//! real `houqin-server` process, the built PWA in headless Chromium, the JavaScript
//! Automerge and automerge-repo from npm, and samod from crates.io.
//!
//! `cargo xtask test` prepares what these need (the PWA in `dist/`, Chromium and
//! ChromeDriver, npm packages, the server binary) and runs them.

mod access;
mod backup;
mod browser;
mod faults;
mod https;
mod js_interop;
mod labels;
mod load;
mod notify;
mod notify_people;
mod postgres;
mod public;
mod review;
mod samod_interop;
mod server_process;
mod serving;
mod support;
mod sync;
