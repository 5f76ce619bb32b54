//! Names of the bindings declared in `wrangler.toml`, in one place.

/// The D1 database: products, ledger, outbox, sync history.
pub const DB: &str = "DB";
/// The KV namespace: health probes and cron heartbeats (never counts).
pub const KV: &str = "KV";
/// The producer binding of the sync queue.
pub const SYNC_QUEUE: &str = "SYNC_QUEUE";
/// The producer binding of the jobs queue: steps of bulk jobs, file applies, catalogue reads
/// and re-syncs, kept apart from pushes so a big job cannot delay them.
pub const JOBS_QUEUE: &str = "JOBS_QUEUE";
/// The producer binding of the bulk lane: pushes of changes written together in their
/// hundreds (see `tally_domain::sync::goes_in_bulk`).
pub const BULK_SYNC_QUEUE: &str = "BULK_SYNC_QUEUE";
/// The queue names of the bulk lane and the jobs queue, as the consumer sees them in a batch.
pub const BULK_SYNC_QUEUE_NAME: &str = "tally-sync-bulk";
pub const JOBS_QUEUE_NAME: &str = "tally-jobs";
/// The queue name of the dead-letter queue, as the consumer sees it in a batch.
pub const SYNC_DLQ_NAME: &str = "tally-sync-dlq";
/// The producer binding of the dead-letter queue, where pushes go after their last retry.
pub const SYNC_DLQ: &str = "SYNC_DLQ";
/// The worker secret (base64 of 32 bytes) that seals storefront credentials.
pub const CREDENTIALS_KEY: &str = "CREDENTIALS_KEY";
/// The worker secret (base64) mixed into password hashes, kept apart from the database.
pub const PASSWORD_PEPPER: &str = "PASSWORD_PEPPER";

/// The producer binding of the queue named `name` (as a batch reports it), so what a consumer
/// hands back goes to the queue it came from.
pub fn producer_of(name: &str) -> &'static str {
    match name {
        BULK_SYNC_QUEUE_NAME => BULK_SYNC_QUEUE,
        JOBS_QUEUE_NAME => JOBS_QUEUE,
        _ => SYNC_QUEUE,
    }
}
