//! Sworn's JavaScript runner: Cloudflare-Workers-compatible workers on
//! QuickJS, with an Escrin-compatible management API.

pub mod api;
pub mod app;
pub mod attestation;
pub mod auth;
pub mod body;
pub mod cron;
pub mod engine;
pub mod gas;
pub mod http_client;
pub mod ingress;
pub mod limits;
pub mod logs;
pub mod memory;
pub mod peer;
pub mod registry;
pub mod server;
pub mod services;
pub mod state;
pub mod tls;
pub mod wasi;
