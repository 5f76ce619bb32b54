//! `sandbox`: local storefronts that answer the Shopify, WooCommerce, eBay, Amazon and
//! BigCommerce requests Tally's connectors send (`docs/storefronts.md`), for the integration
//! tests and the demo run.
//!
//! ```text
//! sandbox --listen KIND=127.0.0.1:PORT [--listen ...] --credential KIND=SECRET [...]
//!         [--seed FILE.json] [--app-secret shopify=SECRET]
//! ```
//!
//! One process, one listener per kind, each with its own in-memory inventory, call log and
//! failure injection (`/_sandbox/...`, see `control.rs`). Port 0 picks a free port. Once every
//! listener is bound it prints `listening KIND http://ADDR` per listener, then `sandbox ready`.
//! The seed file is `{"KIND": {"ITEM KEY": quantity}}`.

mod amazon;
mod api;
mod bigcommerce;
mod catalogue;
mod control;
mod ebay;
mod orders;
mod platform;
mod selling;
mod shopify;
mod store;
mod woocommerce;

use axum::extract::{Request, State};
use axum::response::Response;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use store::Store;
use tally_sandbox::Kind;
use tokio::net::TcpListener;

/// What the command line asked for.
struct Options {
    listen: BTreeMap<Kind, String>,
    credentials: BTreeMap<Kind, String>,
    seed: BTreeMap<Kind, BTreeMap<String, i64>>,
    /// Shopify: the app's client secret its webhooks are signed with.
    app_secrets: BTreeMap<Kind, String>,
}

const USAGE: &str = "usage: sandbox --listen KIND=HOST:PORT [--listen ...] \
--credential KIND=SECRET [...] [--seed FILE.json] [--app-secret shopify=SECRET]\n  KIND: shopify, woocommerce, ebay, amazon, bigcommerce";

fn main() {
    let options = parse_args(std::env::args().skip(1)).unwrap_or_else(|message| {
        eprintln!("sandbox: {message}\n{USAGE}");
        std::process::exit(2);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(message) = runtime.block_on(serve(options)) {
        eprintln!("sandbox: {message}");
        std::process::exit(1);
    }
}

/// Parses `--listen`, `--credential` and `--seed`; every listener needs a credential.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        listen: BTreeMap::new(),
        credentials: BTreeMap::new(),
        seed: BTreeMap::new(),
        app_secrets: BTreeMap::new(),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => insert_pair(&mut options.listen, &value)?,
            "--credential" => insert_pair(&mut options.credentials, &value)?,
            "--seed" => options.seed = read_seed(&value)?,
            "--app-secret" => insert_pair(&mut options.app_secrets, &value)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    check_complete(&options)?;
    Ok(options)
}

/// Adds `KIND=VALUE` to `map`.
fn insert_pair(map: &mut BTreeMap<Kind, String>, pair: &str) -> Result<(), String> {
    let (name, value) = pair
        .split_once('=')
        .ok_or(format!("expected KIND=VALUE, got {pair}"))?;
    let kind = Kind::parse(name).ok_or(format!("unknown storefront kind {name}"))?;
    map.insert(kind, value.to_owned());
    Ok(())
}

/// Reads `{"KIND": {"ITEM KEY": quantity}}`.
fn read_seed(path: &str) -> Result<BTreeMap<Kind, BTreeMap<String, i64>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path} is not a seed file: {e}"))
}

/// Every listener has a credential, and the seed only names kinds that are served.
fn check_complete(options: &Options) -> Result<(), String> {
    if options.listen.is_empty() {
        return Err("nothing to serve: give at least one --listen".into());
    }
    if let Some(kind) = options
        .listen
        .keys()
        .find(|k| !options.credentials.contains_key(k))
    {
        return Err(format!(
            "--listen {kind}=... needs a --credential {kind}=..."
        ));
    }
    if let Some(kind) = options
        .seed
        .keys()
        .find(|k| !options.listen.contains_key(k))
    {
        return Err(format!("the seed names {kind}, which has no --listen"));
    }
    Ok(())
}

/// Binds every listener before announcing readiness, then serves them all until killed.
async fn serve(mut options: Options) -> Result<(), String> {
    let mut bound = Vec::new();
    for (kind, address) in &options.listen {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address} for {kind}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let credential = options.credentials.remove(kind).unwrap_or_default();
        let items = options.seed.remove(kind).unwrap_or_default();
        let mut store = Store::new(*kind, credential, items)?;
        if let Some(secret) = options.app_secrets.remove(kind) {
            store.app_secret = secret;
        }
        let _ = store.root.set(format!("http://{local}"));
        let store = Arc::new(store);
        println!("listening {kind} http://{local}");
        bound.push((listener, store));
    }
    println!("sandbox ready");
    let _ = std::io::stdout().flush();

    let mut servers = tokio::task::JoinSet::new();
    for (listener, store) in bound {
        let app = axum::Router::new().fallback(route).with_state(store);
        servers.spawn(async move { axum::serve(listener, app).await });
    }
    match servers.join_next().await {
        Some(Ok(Err(e))) => Err(format!("a listener stopped: {e}")),
        Some(Err(e)) => Err(format!("a listener crashed: {e}")),
        _ => Ok(()),
    }
}

/// Every request: `/_sandbox/...` steers the store, anything else is an API call.
async fn route(State(store): State<Arc<Store>>, request: Request) -> Response {
    let request = match api::ApiRequest::read(request).await {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    if selling::handles(&request) {
        selling::handle(&store, &request).await.into_response()
    } else if request.path.starts_with(control::PREFIX) {
        control::handle(&store, &request).into_response()
    } else {
        api::handle(&store, request).await
    }
}
