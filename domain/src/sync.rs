//! Auto Sync decisions: what goes on the queue, and what the sync history records.
//!
//! Queue delivery is at-least-once and unordered, so a message only names *what is dirty*
//! (a product); the consumer reads the current quantity when it acts. Two deliveries of the
//! same message, or two messages for one product, converge on the same result.

use crate::channel::{ChannelQuantity, ChannelRules};
use crate::product::{AccountId, ProductId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A message on the sync queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncMessage {
    /// A product's quantity changed (or a seller pressed Sync Now): push it to its listings.
    ProductChanged {
        account_id: AccountId,
        product_id: ProductId,
        /// The sync outbox entry this message delivers; marked done when handled.
        outbox_id: i64,
        /// 1 for the first delivery; a retry after a failed push carries the next number, so
        /// backoff and the dead-letter decision do not depend on the queue's own counter.
        #[serde(default = "first_attempt")]
        attempt: u32,
    },
    /// Many products changed in one write (a file, Sync Now on many rows): one message names
    /// up to [`PRODUCTS_PER_MESSAGE`] of them, each delivered for the first time.
    ProductsChanged {
        account_id: AccountId,
        /// (product, outbox entry).
        changes: Vec<(ProductId, i64)>,
    },
    /// Continue a bulk job from where it stands (its cursor is in D1, so a repeat is harmless).
    BulkJob { account_id: AccountId, job_id: i64 },
    /// Continue applying an inventory file (its cursor is in D1, so a repeat is harmless).
    UploadJob {
        account_id: AccountId,
        upload_id: i64,
    },
    /// Apply a storefront's webhook delivery, stored in the inbox when it arrived (the row
    /// says whether it was applied, so a repeat is harmless).
    Delivery {
        account_id: AccountId,
        inbox_id: i64,
    },
    /// Read a storefront's recent orders (the cron asks at most every few minutes per
    /// connection; the cursor is in D1, so a repeat reads nothing new).
    Poll {
        account_id: AccountId,
        storefront_id: i64,
    },
    /// Read back a listing a storefront accepted only for processing (Amazon), and mark its
    /// push failed if the storefront refused it after all (the cron asks once it is due).
    Verify {
        account_id: AccountId,
        listing_id: i64,
    },
    /// Continue a storefront catalogue read or its apply (listing import; the cursor is in D1,
    /// so a repeat is harmless).
    CatalogueRead { account_id: AccountId, read_id: i64 },
    /// Continue a connection's full re-sync (its cursor is in D1, so a repeat is harmless).
    ResyncJob { account_id: AccountId, job_id: i64 },
    /// The health check's round trip through the queue.
    Ping { nonce: String },
}

fn first_attempt() -> u32 {
    1
}

/// Fresh changes written together in more than this many (a file's rows, a re-sync, a settings
/// change over many products) are pushed from the bulk lane; fewer (an adjustment, an order,
/// Sync Now's at most 250) from the sync queue itself. So a change a seller is watching never
/// waits behind the thousands of messages of another seller's file.
pub const BULK_LANE_ABOVE: usize = 250;

/// Whether `entries` changes written together go on the bulk lane.
pub fn goes_in_bulk(entries: usize) -> bool {
    entries > BULK_LANE_ABOVE
}

/// Products one [`SyncMessage::ProductsChanged`] names: a 100,000-row file is 4,000 messages,
/// not 100,000. Small enough that a full batch (100 messages, 2,500 products) is a few seconds
/// of work for one consumer invocation: `wrangler dev`'s queue stops delivering for good when an
/// invocation runs for half a minute.
pub const PRODUCTS_PER_MESSAGE: usize = 25;

impl SyncMessage {
    /// The product changes this message carries: (account, product, outbox entry, attempt).
    pub fn product_changes(&self) -> Vec<(AccountId, ProductId, i64, u32)> {
        match self {
            SyncMessage::ProductChanged {
                account_id,
                product_id,
                outbox_id,
                attempt,
            } => vec![(*account_id, *product_id, *outbox_id, *attempt)],
            SyncMessage::ProductsChanged {
                account_id,
                changes,
            } => changes
                .iter()
                .map(|(product, outbox)| (*account_id, *product, *outbox, 1))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// About how many D1 statements handling this message issues, for the consumer's
    /// invocation budget ([`crate::round::InvocationBudget`]). Product changes are counted by
    /// the engine's rounds themselves. A poll that finds many new orders can issue more; the
    /// guess keeps a batch of them from starting together.
    pub fn statements_guess(&self) -> usize {
        match self {
            SyncMessage::ProductChanged { .. } | SyncMessage::ProductsChanged { .. } => 0,
            SyncMessage::Ping { .. } => 1,
            SyncMessage::Verify { .. } => 10,
            // One stored order applied: the order, its lines' ledger rows and products, its
            // outbox entries, the inbox row.
            SyncMessage::Delivery { .. } => 25,
            SyncMessage::Poll { .. } => 100,
            // A job delivery works for about a second: its steps' own budget.
            SyncMessage::BulkJob { .. }
            | SyncMessage::CatalogueRead { .. }
            | SyncMessage::ResyncJob { .. } => 100,
            SyncMessage::UploadJob { .. } => 200,
        }
    }

    /// Whether this message is about changed products (handled by the sync engine).
    pub fn is_product_change(&self) -> bool {
        matches!(
            self,
            SyncMessage::ProductChanged { .. } | SyncMessage::ProductsChanged { .. }
        )
    }

    /// A step of a long background job (a bulk change, a file's apply, a catalogue read, a
    /// re-sync). These travel on a queue of their own, so one seller's big job never waits in
    /// front of anyone's pushes, webhook deliveries or polls.
    pub fn is_background_job(&self) -> bool {
        matches!(
            self,
            SyncMessage::BulkJob { .. }
                | SyncMessage::UploadJob { .. }
                | SyncMessage::CatalogueRead { .. }
                | SyncMessage::ResyncJob { .. }
        )
    }
}

/// The messages that deliver freshly written outbox entries (product, entry) of one account:
/// one per entry for a few, packed [`PRODUCTS_PER_MESSAGE`] to a message for many.
pub fn messages_for(account_id: AccountId, entries: &[(ProductId, i64)]) -> Vec<SyncMessage> {
    entries
        .chunks(PRODUCTS_PER_MESSAGE)
        .map(|chunk| match chunk {
            [(product_id, outbox_id)] => SyncMessage::ProductChanged {
                account_id,
                product_id: *product_id,
                outbox_id: *outbox_id,
                attempt: 1,
            },
            _ => SyncMessage::ProductsChanged {
                account_id,
                changes: chunk.to_vec(),
            },
        })
        .collect()
}

/// What caused a push, as the sync history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncTrigger {
    /// A manual quantity adjustment.
    Adjustment,
    /// A sales order or its cancellation.
    Order,
    /// An inventory file upload.
    Upload,
    /// The seller pressed Sync Now.
    SyncNow,
    /// A settings change that can leave a storefront behind: a listing linked or resumed, new
    /// channel rules, a connection reactivated or given a new credential or address.
    Settings,
}

impl SyncTrigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncTrigger::Adjustment => "adjustment",
            SyncTrigger::Order => "order",
            SyncTrigger::Upload => "upload",
            SyncTrigger::SyncNow => "sync_now",
            SyncTrigger::Settings => "settings",
        }
    }
}

/// Where a push stands. Each status shows as a badge with a word, never colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Queued,
    Sent,
    Succeeded,
    Retrying,
    Failed,
    /// Nothing was pushed, on purpose (no listings, or the storefront already had this quantity).
    Skipped,
}

impl SyncStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Queued => "queued",
            SyncStatus::Sent => "sent",
            SyncStatus::Succeeded => "succeeded",
            SyncStatus::Retrying => "retrying",
            SyncStatus::Failed => "failed",
            SyncStatus::Skipped => "skipped",
        }
    }

    /// The badge word.
    pub fn label(self) -> &'static str {
        match self {
            SyncStatus::Queued => "Queued",
            SyncStatus::Sent => "Sent",
            SyncStatus::Succeeded => "Succeeded",
            SyncStatus::Retrying => "Retrying",
            SyncStatus::Failed => "Failed",
            SyncStatus::Skipped => "Skipped",
        }
    }
}

/// What the engine knows of one listing when it decides whether to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingState {
    pub listing_id: i64,
    /// The connection's rules with the listing's overrides applied.
    pub rules: ChannelRules,
    /// The product version, quantity and outbox entry of the last successful push.
    pub pushed_version: Option<i64>,
    pub pushed_quantity: Option<i64>,
    pub pushed_outbox: i64,
}

/// The decision for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingPlan {
    /// Push this quantity.
    Push(ChannelQuantity),
    /// The storefront already holds this quantity for the current version: nothing to send.
    UpToDate(ChannelQuantity),
}

/// Decides whether a listing needs a push of the product's **current** quantity.
///
/// A listing already pushed at the current version with the same channel quantity is up to
/// date, which is what makes repeated, late and out-of-order deliveries harmless and bursts on
/// one product collapse into one push. Sync Now (`forced_by` = its outbox entry) pushes anyway,
/// once: after it succeeded the listing's `pushed_outbox` has caught up with it.
pub fn plan_listing(
    on_hand: i64,
    version: i64,
    listing: &ListingState,
    forced_by: Option<i64>,
) -> ListingPlan {
    let quantity = listing.rules.apply(on_hand);
    let same = listing.pushed_version.is_some_and(|v| v >= version)
        && listing.pushed_quantity == Some(quantity.quantity);
    let forced = forced_by.is_some_and(|outbox| listing.pushed_outbox < outbox);
    if same && !forced {
        ListingPlan::UpToDate(quantity)
    } else {
        ListingPlan::Push(quantity)
    }
}

/// The history entry for a product that has no active listing: skipped, and why, so a seller
/// who expected a push sees the reason instead of silence.
pub fn no_listings_entry(quantity: i64) -> PlannedEntry {
    PlannedEntry {
        listing_id: None,
        storefront_name: None,
        quantity,
        status: SyncStatus::Skipped,
        message: "No active listings for this product, so there was nothing to push.".into(),
        action: Some(
            "Link the product to a storefront listing to keep that storefront in sync.".into(),
        ),
    }
}

/// One line for the sync history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEntry {
    pub listing_id: Option<i64>,
    pub storefront_name: Option<String>,
    pub quantity: i64,
    pub status: SyncStatus,
    pub message: String,
    /// For anything a seller must act on: what to do.
    pub action: Option<String>,
}

/// One product's share of a queue batch: every outbox entry that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyProduct {
    pub account_id: AccountId,
    pub product_id: ProductId,
    /// (outbox entry, attempt), in the order delivered.
    pub entries: Vec<(i64, u32)>,
}

impl DirtyProduct {
    /// The message that delivers one of this product's outbox entries at `attempt`.
    pub fn message(&self, outbox_id: i64, attempt: u32) -> SyncMessage {
        SyncMessage::ProductChanged {
            account_id: self.account_id,
            product_id: self.product_id,
            outbox_id,
            attempt,
        }
    }
}

impl DirtyProduct {
    /// The entry whose history rows describe this round: the newest one.
    pub fn lead(&self) -> (i64, u32) {
        self.entries
            .iter()
            .copied()
            .max_by_key(|(outbox, _)| *outbox)
            .unwrap_or((0, 1))
    }
}

/// Groups a batch's product messages by product, so a burst of changes to one product is one
/// round of pushes of its current quantity instead of one per change.
pub fn coalesce<'a>(messages: impl IntoIterator<Item = &'a SyncMessage>) -> Vec<DirtyProduct> {
    let mut dirty: Vec<DirtyProduct> = Vec::new();
    let mut index: HashMap<(AccountId, ProductId), usize> = HashMap::new();
    for (account_id, product_id, outbox_id, attempt) in
        messages.into_iter().flat_map(SyncMessage::product_changes)
    {
        match index.get(&(account_id, product_id)) {
            Some(&i) => dirty[i].entries.push((outbox_id, attempt)),
            None => {
                index.insert((account_id, product_id), dirty.len());
                dirty.push(DirtyProduct {
                    account_id,
                    product_id,
                    entries: vec![(outbox_id, attempt)],
                });
            }
        }
    }
    dirty
}

/// The messages that put `products` back on the queue as they came, for an invocation that
/// ran out of time or statements before their round: first deliveries packed, later attempts
/// one message each (their attempt number decides backoff and the dead letter). Received
/// again, they [`coalesce`] to the same products with the same attempts, so a hand-back never
/// counts as a failed attempt.
pub fn handed_back(products: &[DirtyProduct]) -> Vec<SyncMessage> {
    let mut messages = Vec::new();
    let mut first: Vec<(AccountId, Vec<(ProductId, i64)>)> = Vec::new();
    for d in products {
        for &(outbox_id, attempt) in &d.entries {
            if attempt > 1 {
                messages.push(d.message(outbox_id, attempt));
                continue;
            }
            match first
                .iter_mut()
                .find(|(account, _)| *account == d.account_id)
            {
                Some((_, entries)) => entries.push((d.product_id, outbox_id)),
                None => first.push((d.account_id, vec![(d.product_id, outbox_id)])),
            }
        }
    }
    for (account, entries) in first {
        messages.extend(messages_for(account, &entries));
    }
    messages
}

/// Splits a batch's dirty products into engine rounds of at most `size` products of one
/// account each, taking the accounts in turn: a seller with a 100,000-row backlog never holds
/// the others' rounds back behind it.
pub fn rounds(dirty: &[DirtyProduct], size: usize) -> Vec<Vec<DirtyProduct>> {
    let size = size.max(1);
    let mut accounts: Vec<AccountId> = Vec::new();
    for d in dirty {
        if !accounts.contains(&d.account_id) {
            accounts.push(d.account_id);
        }
    }
    let mut queues: Vec<std::vec::IntoIter<Vec<DirtyProduct>>> = accounts
        .iter()
        .map(|a| {
            let mine: Vec<DirtyProduct> = dirty
                .iter()
                .filter(|d| d.account_id == *a)
                .cloned()
                .collect();
            mine.chunks(size)
                .map(<[DirtyProduct]>::to_vec)
                .collect::<Vec<_>>()
                .into_iter()
        })
        .collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        for queue in &mut queues {
            out.extend(queue.next());
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The `p`-th percentile (0–100) of `values` by the nearest-rank method; `None` when empty.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (u64::from(p.min(100)) * values.len() as u64)
        .div_ceil(100)
        .max(1);
    values.get(rank as usize - 1).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_long_job_steps_travel_on_the_jobs_queue() {
        let account_id = AccountId(1);
        let jobs = [
            SyncMessage::BulkJob {
                account_id,
                job_id: 1,
            },
            SyncMessage::UploadJob {
                account_id,
                upload_id: 1,
            },
            SyncMessage::CatalogueRead {
                account_id,
                read_id: 1,
            },
            SyncMessage::ResyncJob {
                account_id,
                job_id: 1,
            },
        ];
        for job in &jobs {
            assert!(job.is_background_job(), "{job:?}");
        }
        let latency_sensitive = [
            SyncMessage::ProductChanged {
                account_id,
                product_id: ProductId(1),
                outbox_id: 1,
                attempt: 1,
            },
            SyncMessage::Delivery {
                account_id,
                inbox_id: 1,
            },
            SyncMessage::Poll {
                account_id,
                storefront_id: 1,
            },
            SyncMessage::Verify {
                account_id,
                listing_id: 1,
            },
            SyncMessage::Ping { nonce: "n".into() },
        ];
        for message in &latency_sensitive {
            assert!(!message.is_background_job(), "{message:?}");
        }
    }

    #[test]
    fn only_changes_written_in_their_hundreds_take_the_bulk_lane() {
        assert!(!goes_in_bulk(1), "an adjustment or an order");
        assert!(!goes_in_bulk(250), "Sync Now on a full page");
        assert!(goes_in_bulk(251));
        assert!(goes_in_bulk(5_000), "a step of a file");
    }

    #[test]
    fn a_round_handed_back_comes_back_as_it_went_with_no_attempt_spent() {
        let dirty = vec![
            DirtyProduct {
                account_id: AccountId(1),
                product_id: ProductId(10),
                entries: vec![(100, 1), (101, 1)],
            },
            DirtyProduct {
                account_id: AccountId(1),
                product_id: ProductId(11),
                entries: vec![(102, 4)],
            },
            DirtyProduct {
                account_id: AccountId(2),
                product_id: ProductId(20),
                entries: vec![(200, 1)],
            },
        ];
        let messages = handed_back(&dirty);
        assert!(
            messages.contains(&dirty[1].message(102, 4)),
            "a retry keeps its own message and attempt: {messages:?}"
        );
        assert_eq!(
            messages.len(),
            3,
            "account 1's first deliveries go packed in one message: {messages:?}"
        );
        let mut again = coalesce(&messages);
        again.sort_by_key(|d| d.product_id.0);
        assert_eq!(again, dirty);
        assert!(handed_back(&[]).is_empty());
    }

    #[test]
    fn rounds_take_the_accounts_in_turn_and_keep_every_product_once() {
        let dirty: Vec<DirtyProduct> = (0..250)
            .map(|i| DirtyProduct {
                account_id: AccountId(if i < 230 { 1 } else { 2 }),
                product_id: ProductId(i),
                entries: vec![(i, 1)],
            })
            .collect();
        let rounds = rounds(&dirty, 100);
        let shape: Vec<(i64, usize)> = rounds
            .iter()
            .map(|r| (r[0].account_id.0, r.len()))
            .collect();
        assert_eq!(shape, vec![(1, 100), (2, 20), (1, 100), (1, 30)]);
        assert!(rounds
            .iter()
            .all(|r| r.iter().all(|d| d.account_id == r[0].account_id)));
        let mut seen: Vec<i64> = rounds.iter().flatten().map(|d| d.product_id.0).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
        assert!(super::rounds(&[], 100).is_empty());
    }

    #[test]
    fn many_changes_travel_packed_and_coalesce_like_single_ones() {
        let account = AccountId(7);
        let entries: Vec<(ProductId, i64)> = (1..=250).map(|i| (ProductId(i), 1_000 + i)).collect();
        let messages = messages_for(account, &entries);
        assert_eq!(messages.len(), 10, "25 each");
        let single = messages_for(account, &entries[..1]);
        assert!(matches!(
            single[..],
            [SyncMessage::ProductChanged { attempt: 1, .. }]
        ));
        let mut all = messages.clone();
        all.push(SyncMessage::ProductChanged {
            account_id: account,
            product_id: ProductId(5),
            outbox_id: 9_999,
            attempt: 3,
        });
        let dirty = coalesce(&all);
        assert_eq!(dirty.len(), 250);
        let five = dirty.iter().find(|d| d.product_id == ProductId(5)).unwrap();
        assert_eq!(five.entries, vec![(1_005, 1), (9_999, 3)]);
        assert!(all.iter().all(SyncMessage::is_product_change));
        let json = serde_json::to_string(&messages[0]).unwrap();
        assert!(
            json.len() < 128 * 1024 / 10,
            "far below the queue's limit: {}",
            json.len()
        );
    }

    use super::*;

    fn listing(pushed: Option<(i64, i64)>, outbox: i64) -> ListingState {
        ListingState {
            listing_id: 1,
            rules: ChannelRules::default(),
            pushed_version: pushed.map(|p| p.0),
            pushed_quantity: pushed.map(|p| p.1),
            pushed_outbox: outbox,
        }
    }

    #[test]
    fn a_product_without_listings_records_one_skipped_entry_saying_why() {
        let entry = no_listings_entry(7);
        assert_eq!(entry.status, SyncStatus::Skipped);
        assert!(entry.message.contains("No active listings"));
        assert!(entry
            .action
            .as_deref()
            .unwrap()
            .contains("Link the product"));
    }

    #[test]
    fn a_never_pushed_listing_gets_the_current_quantity() {
        let plan = plan_listing(12, 3, &listing(None, 0), None);
        assert!(matches!(plan, ListingPlan::Push(q) if q.quantity == 12));
    }

    #[test]
    fn a_listing_pushed_at_the_current_version_is_up_to_date() {
        let plan = plan_listing(12, 3, &listing(Some((3, 12)), 9), None);
        assert!(matches!(plan, ListingPlan::UpToDate(_)));
        // An older push, or a different channel quantity (the rules changed), needs a push.
        assert!(matches!(
            plan_listing(12, 4, &listing(Some((3, 12)), 9), None),
            ListingPlan::Push(_)
        ));
        assert!(matches!(
            plan_listing(11, 3, &listing(Some((3, 12)), 9), None),
            ListingPlan::Push(_)
        ));
    }

    #[test]
    fn sync_now_pushes_an_up_to_date_listing_once() {
        assert!(matches!(
            plan_listing(12, 3, &listing(Some((3, 12)), 9), Some(10)),
            ListingPlan::Push(_)
        ));
        // Its retry after the push landed (pushed_outbox caught up) sends nothing more.
        assert!(matches!(
            plan_listing(12, 3, &listing(Some((3, 12)), 10), Some(10)),
            ListingPlan::UpToDate(_)
        ));
    }

    #[test]
    fn deliveries_in_any_order_converge_on_the_current_quantity() {
        // Whatever order three deliveries arrive in, each reads the current state (version 3,
        // 5 on hand); once one has pushed, the others find the listing up to date.
        let mut state = listing(None, 0);
        let mut pushes = 0;
        for _delivery in [2, 1, 3] {
            if let ListingPlan::Push(q) = plan_listing(5, 3, &state, None) {
                pushes += 1;
                state.pushed_version = Some(3);
                state.pushed_quantity = Some(q.quantity);
            }
        }
        assert_eq!(pushes, 1);
        assert_eq!(state.pushed_quantity, Some(5));
    }

    #[test]
    fn a_burst_on_one_product_coalesces_into_one_round() {
        let msg = |product, outbox| SyncMessage::ProductChanged {
            account_id: AccountId(1),
            product_id: ProductId(product),
            outbox_id: outbox,
            attempt: 1,
        };
        let batch = [
            msg(7, 1),
            msg(8, 2),
            msg(7, 3),
            msg(7, 4),
            SyncMessage::Ping { nonce: "x".into() },
        ];
        let dirty = coalesce(&batch);
        assert_eq!(dirty.len(), 2);
        assert_eq!(dirty[0].entries.len(), 3);
        assert_eq!(dirty[0].lead(), (4, 1));
        assert_eq!(dirty[1].product_id, ProductId(8));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50), Some(50));
        assert_eq!(percentile(&mut v, 99), Some(99));
        assert_eq!(percentile(&mut [42], 99), Some(42));
        assert_eq!(percentile(&mut [], 50), None);
    }

    #[test]
    fn queue_messages_are_tagged_by_kind() {
        let msg = SyncMessage::ProductChanged {
            account_id: AccountId(1),
            product_id: ProductId(9),
            outbox_id: 3,
            attempt: 1,
        };
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["kind"], "product_changed");
        assert_eq!(serde_json::from_value::<SyncMessage>(json).unwrap(), msg);
    }
}
