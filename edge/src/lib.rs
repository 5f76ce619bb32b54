//! Tally's Cloudflare Worker: a thin shell around `tally-domain`.
//!
//! Three entry points, one per Workers event:
//! - `fetch`: the JSON API under `/api/v1` (everything else is the SPA, served as static assets
//!   before the worker runs);
//! - `queue`: the sync queue consumer and its dead-letter queue;
//! - `scheduled`: the cron trigger that re-sends sync outbox entries nobody handled.

mod bindings;
mod caller;
mod catalogue_job;
mod clock;
mod connection;
mod consumer;
mod cron;
mod crypto;
mod db;
mod deliveries;
mod drift_check;
mod engine;
mod error;
mod handlers;
mod polling;
mod push;
mod request;
mod resync_job;
mod retention;
mod routes;
mod sales;
mod store;
mod storefront_http;
mod subscriptions;
mod upload_job;
mod verify;

use tally_domain::sync::SyncMessage;
use worker::{
    event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent,
};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    Ok(routes::handle(req, &env).await)
}

#[event(queue)]
async fn queue(batch: MessageBatch<SyncMessage>, env: Env, _ctx: Context) -> worker::Result<()> {
    consumer::handle_batch(batch, &env).await;
    Ok(())
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    cron::run(&event, &env).await;
}
