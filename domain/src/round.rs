//! The decisions of one sync round, without I/O: which outbox entry leads a product's round,
//! whether a listing's push goes now or waits (and why, in the seller's words), what a
//! storefront's answer means for the history and the queue, and which outbox entries a round
//! closes or postpones. The edge's `engine` reads, calls storefronts and writes around these.

use crate::channel::ChannelQuantity;
use crate::connector::{self, Failure};
use crate::retry::{self, RetryDecision, RetryPolicy};
use crate::storefront::StorefrontKind;
use crate::sync::{DirtyProduct, SyncStatus, SyncTrigger};
use serde::Deserialize;

use crate::connector::DAY_MS;

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Waiting to be pushed (or retried).
    Pending,
    /// Handled: pushed, up to date, or nothing to push.
    Done,
    /// Given up on after the last retry.
    Failed,
}

impl EntryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Pending => "pending",
            EntryStatus::Done => "done",
            EntryStatus::Failed => "failed",
        }
    }
}

/// An outbox entry as a round sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub trigger: SyncTrigger,
    pub status: EntryStatus,
}

/// The newest still-pending entry a product's deliveries named, with the attempt its delivery
/// carried: the round runs as that entry (its history rows, its retries). `None` when every
/// entry named is settled already (a repeat delivery).
pub fn lead_entry(product: &DirtyProduct, entries: &[Entry]) -> Option<(i64, u32)> {
    product
        .entries
        .iter()
        .filter(|(id, _)| {
            entries
                .iter()
                .any(|e| e.id == *id && e.status == EntryStatus::Pending)
        })
        .max_by_key(|(id, _)| *id)
        .copied()
}

/// The newest entry among the product's that asked to push even an unchanged quantity (Sync
/// Now, or a settings change), if any: such a push skips the spacing wait too.
pub fn forced_by(product: &DirtyProduct, entries: &[Entry]) -> Option<i64> {
    product
        .entries
        .iter()
        .filter_map(|(id, _)| entries.iter().find(|e| e.id == *id))
        .filter(|e| matches!(e.trigger, SyncTrigger::SyncNow | SyncTrigger::Settings))
        .map(|e| e.id)
        .max()
}

/// What the consumer does with a product's messages after the round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Everything settled (pushed, up to date, or failed for good).
    Done,
    /// Deliver again after `delay_s`: the lead entry, at this attempt.
    Retry {
        outbox_id: i64,
        attempt: u32,
        delay_s: u32,
    },
    /// Retries are used up: hand the lead entry to the dead-letter queue.
    DeadLetter { outbox_id: i64, attempt: u32 },
}

impl Next {
    /// Of two follow-ups for one product, the one that keeps it alive: a dead letter outranks
    /// a retry, and two retries merge into the longer wait at the higher attempt (so every
    /// listing's wait is honoured and no failure is forgotten).
    pub fn stronger(self, other: Next) -> Next {
        match (self, other) {
            (dead @ Next::DeadLetter { .. }, _) | (_, dead @ Next::DeadLetter { .. }) => dead,
            (
                Next::Retry {
                    outbox_id,
                    attempt: x,
                    delay_s: dx,
                },
                Next::Retry {
                    attempt: y,
                    delay_s: dy,
                    ..
                },
            ) => Next::Retry {
                outbox_id,
                attempt: x.max(y),
                delay_s: dx.max(dy),
            },
            (retry @ Next::Retry { .. }, Next::Done) | (Next::Done, retry @ Next::Retry { .. }) => {
                retry
            }
            (Next::Done, Next::Done) => Next::Done,
        }
    }
}

/// What a round knows of a listing's recent pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushClock {
    /// When the storefront last accepted a push to this listing.
    pub pushed_at: Option<i64>,
    /// Pushes to this listing on `revisions_day` (days since the epoch, UTC).
    pub revisions: i64,
    pub revisions_day: i64,
    /// Today's pushes to the listing's cap group (an eBay listing's variations share a cap).
    pub group_revisions: i64,
}

impl PushClock {
    /// Pushes counted against the platform's daily cap today: this listing's or its group's.
    fn revisions_today(&self, now: i64) -> i64 {
        let own = if self.revisions_day == now / DAY_MS {
            self.revisions
        } else {
            0
        };
        own.max(self.group_revisions)
    }
}

/// Why a push due now waits instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The listing was pushed moments ago: the rest of the spacing first, so a burst of
    /// sales becomes a few pushes of the latest quantity.
    Spacing { delay_s: u32, interval_s: i64 },
    /// The platform's per-listing daily cap (eBay: 250) is used up: until it starts again.
    DailyCap { delay_s: u32, cap: u32 },
}

impl Wait {
    /// Seconds until the push may go.
    pub fn delay_s(self) -> u32 {
        match self {
            Wait::Spacing { delay_s, .. } | Wait::DailyCap { delay_s, .. } => delay_s,
        }
    }

    /// The history's line for the waiting push, naming the storefront.
    pub fn message(self, storefront: &str) -> String {
        match self {
            Wait::Spacing {
                delay_s,
                interval_s,
            } => format!(
                "Queued for {delay_s} s: {storefront} was updated moments ago, and pushes to one \
                 listing are spaced {interval_s} s apart."
            ),
            Wait::DailyCap { delay_s, cap } => format!(
                "Queued until midnight UTC (in about {} h): {storefront} allows {cap} quantity \
                 changes per listing per day and this listing has had them all today. The \
                 quantity current then is pushed.",
                delay_s.div_ceil(3600)
            ),
        }
    }
}

/// The longest a capped platform's listing waits between pushes, however few revisions are
/// left: a hot listing's number is never more than this stale while it still has some.
pub const MAX_CAPPED_SPACING_MS: i64 = 5 * 60_000;

/// How long after a push to a listing its next push waits while the product keeps selling:
/// the platform's spacing (`connector::Limits::push_spacing_ms`). On a platform that caps a
/// listing's revisions per day (eBay), once half the day's are used the rest are spread over
/// the rest of the day (at most [`MAX_CAPPED_SPACING_MS`] apart), so a best seller keeps
/// being updated until midnight instead of spending its cap by noon.
pub fn spacing_ms(kind: StorefrontKind, clock: &PushClock, now: i64) -> i64 {
    let limits = connector::limits(kind);
    let base = limits.push_spacing_ms;
    let Some(cap) = limits.daily_revisions.map(i64::from) else {
        return base;
    };
    let used = clock.revisions_today(now);
    if used * 2 < cap {
        return base;
    }
    let left = (cap - used).max(1);
    let day_left_ms = DAY_MS - now.rem_euclid(DAY_MS);
    (day_left_ms / left).clamp(base, MAX_CAPPED_SPACING_MS.max(base))
}

/// Whether a push due now must wait: a listing pushed less than `spacing_ms` ago waits out the
/// rest (unless `forced`, as Sync Now is), and one over its platform's daily revision cap waits
/// until the cap starts again (the queue holds a message 12 h at most; the cron re-sends the
/// entry once it is due).
pub fn wait(
    clock: &PushClock,
    kind: StorefrontKind,
    forced: bool,
    now: i64,
    spacing_ms: i64,
) -> Option<Wait> {
    let wait_ms = clock
        .pushed_at
        .map_or(0, |at| (at + spacing_ms - now).max(0));
    if !forced && wait_ms > 0 {
        return Some(Wait::Spacing {
            delay_s: u32::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
            interval_s: (spacing_ms + 999) / 1000,
        });
    }
    let cap = connector::limits(kind).daily_revisions?;
    (clock.revisions_today(now) >= i64::from(cap)).then(|| Wait::DailyCap {
        delay_s: connector::seconds_until_caps_reset(now),
        cap,
    })
}

/// What a storefront's answer to one push means: the history line and the product's next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: SyncStatus,
    pub message: String,
    /// What the seller should do, for a failure that needs them.
    pub action: Option<String>,
    pub next: Next,
}

/// The storefront took the quantity.
pub fn succeeded(storefront: &str, quantity: &ChannelQuantity) -> Outcome {
    Outcome {
        status: SyncStatus::Succeeded,
        message: format!("{storefront} now shows {}.", quantity.quantity),
        action: None,
        next: Next::Done,
    }
}

/// The storefront refused or did not answer: fail now with the fix, retry after a backoff, or
/// (retries used up) hand the entry to the dead-letter queue, which writes the final line.
/// `jitter` is a random number in [0, 1) that spreads retries.
pub fn failed(
    kind: StorefrontKind,
    failure: &Failure,
    outbox_id: i64,
    attempt: u32,
    policy: &RetryPolicy,
    jitter: f64,
) -> Outcome {
    let (cause, fix) = retry::advice(kind, failure);
    match policy.decide(failure, attempt, jitter) {
        RetryDecision::FailNow => Outcome {
            status: SyncStatus::Failed,
            message: cause,
            action: Some(fix),
            next: Next::Done,
        },
        RetryDecision::RetryAfter(ms) => Outcome {
            status: SyncStatus::Retrying,
            message: format!("{cause} Trying again in {} s.", ms.div_ceil(1000)),
            action: None,
            next: Next::Retry {
                outbox_id,
                attempt: attempt + 1,
                delay_s: u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX),
            },
        },
        RetryDecision::GiveUp => Outcome {
            status: SyncStatus::Retrying,
            message: cause,
            action: None,
            next: Next::DeadLetter { outbox_id, attempt },
        },
    }
}

/// D1 statements one consumer invocation issues at most. Workers allow 1,000 D1 queries per
/// invocation on the paid plan; the margin covers the odd read a push makes on its own (the
/// orders poll before a Shopify retry, a token renewal).
pub const STATEMENTS_PER_INVOCATION: usize = 800;

/// A first guess at one product's statements in a round (its history rows, its listing's
/// writes, its outbox close), before a round of the invocation has shown the real count.
pub const STATEMENTS_PER_PRODUCT_GUESS: usize = 6;

/// Wall time after which a consumer invocation starts no more work and hands the rest of its
/// batch back to the queue: invocations stay short (`wrangler dev`'s queue stops delivering for
/// good after a consumer invocation that ran long, and a short one frees its slot for others).
pub const INVOCATION_MS: i64 = 5_000;

/// What one consumer invocation may still spend on a kind of work: wall time since it started
/// and D1 statements. The first piece of work under a budget always starts (a round, one
/// message: the least work there is), so every invocation makes progress; after that, work
/// starts only while both last, and what does not start goes back to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvocationBudget {
    started: i64,
    limit_ms: i64,
    limit_statements: usize,
    spent: usize,
    ran: bool,
}

impl InvocationBudget {
    /// A budget of `limit_ms` from `started` and `limit_statements`, nothing spent yet.
    pub fn new(started: i64, limit_ms: i64, limit_statements: usize) -> Self {
        InvocationBudget {
            started,
            limit_ms,
            limit_statements,
            spent: 0,
            ran: false,
        }
    }

    /// Whether work expected to issue `expected` statements may start at `now`.
    pub fn allows(&self, now: i64, expected: usize) -> bool {
        !self.ran
            || (now - self.started <= self.limit_ms
                && self.spent + expected <= self.limit_statements)
    }

    /// Records work that ran and the statements it issued.
    pub fn spend(&mut self, statements: usize) {
        self.spent += statements;
        self.ran = true;
    }

    /// Statements spent so far.
    pub fn spent(&self) -> usize {
        self.spent
    }

    /// The budget for the invocation's next kind of work: the same clock and statements spent,
    /// wider limits, and its own first piece of work guaranteed.
    pub fn then(self, limit_ms: i64, limit_statements: usize) -> Self {
        InvocationBudget {
            limit_ms,
            limit_statements,
            ran: false,
            ..self
        }
    }
}

/// What a round does with one product's outbox entries once it knows what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Entries handled for good (`done`).
    pub close: Vec<i64>,
    /// The lead entry stays pending, out of the cron's way until `until`, when its next
    /// delivery (at `attempt`) is due.
    pub postpone: Option<Postpone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Postpone {
    pub id: i64,
    pub until: i64,
    pub attempt: u32,
}

/// A product that is done closes every entry it had; one that retries keeps its lead entry
/// pending (postponed until the retry is due) and closes the rest, which the lead's push
/// covers; one handed to the dead-letter queue keeps its lead pending for the dead-letter
/// consumer to mark failed.
pub fn settle(product: &DirtyProduct, lead: i64, next: &Next, now: i64) -> Settlement {
    let all = product.entries.iter().map(|(id, _)| *id);
    match next {
        Next::Done => Settlement {
            close: all.collect(),
            postpone: None,
        },
        Next::Retry {
            delay_s, attempt, ..
        } => Settlement {
            close: all.filter(|id| *id != lead).collect(),
            postpone: Some(Postpone {
                id: lead,
                until: now + i64::from(*delay_s) * 1000,
                attempt: *attempt,
            }),
        },
        Next::DeadLetter { .. } => Settlement {
            close: all.filter(|id| *id != lead).collect(),
            postpone: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, ProductId};

    fn product(entries: &[(i64, u32)]) -> DirtyProduct {
        DirtyProduct {
            account_id: AccountId(1),
            product_id: ProductId(7),
            entries: entries.to_vec(),
        }
    }

    fn entry(id: i64, trigger: SyncTrigger, status: EntryStatus) -> Entry {
        Entry {
            id,
            trigger,
            status,
        }
    }

    #[test]
    fn the_newest_pending_entry_leads_with_its_delivery_attempt() {
        let p = product(&[(3, 2), (5, 1), (9, 1)]);
        let entries = [
            entry(3, SyncTrigger::Order, EntryStatus::Pending),
            entry(5, SyncTrigger::Adjustment, EntryStatus::Pending),
            entry(9, SyncTrigger::Adjustment, EntryStatus::Done),
        ];
        assert_eq!(lead_entry(&p, &entries), Some((5, 1)));
        let settled = [entry(3, SyncTrigger::Order, EntryStatus::Failed)];
        assert_eq!(lead_entry(&product(&[(3, 4)]), &settled), None, "a repeat");
        assert_eq!(
            lead_entry(&product(&[(4, 1)]), &entries),
            None,
            "an entry of another account is not found, so never leads"
        );
    }

    #[test]
    fn sync_now_and_settings_force_a_push_other_triggers_do_not() {
        let p = product(&[(1, 1), (2, 1), (3, 1)]);
        let entries = [
            entry(1, SyncTrigger::SyncNow, EntryStatus::Pending),
            entry(2, SyncTrigger::Settings, EntryStatus::Pending),
            entry(3, SyncTrigger::Order, EntryStatus::Pending),
        ];
        assert_eq!(forced_by(&p, &entries), Some(2));
        assert_eq!(forced_by(&product(&[(3, 1)]), &entries), None);
    }

    #[test]
    fn a_dead_letter_outranks_a_retry_and_retries_merge_to_the_longer_wait() {
        let retry = |attempt, delay_s| Next::Retry {
            outbox_id: 1,
            attempt,
            delay_s,
        };
        let dead = Next::DeadLetter {
            outbox_id: 1,
            attempt: 8,
        };
        assert_eq!(retry(2, 5).stronger(dead.clone()), dead);
        assert_eq!(Next::Done.stronger(retry(2, 5)), retry(2, 5));
        assert_eq!(retry(3, 2).stronger(retry(2, 9)), retry(3, 9));
        assert_eq!(Next::Done.stronger(Next::Done), Next::Done);
    }

    const NOW: i64 = 20_000 * DAY_MS + 3_600_000;

    fn clock(pushed_ago_ms: Option<i64>, revisions: i64) -> PushClock {
        PushClock {
            pushed_at: pushed_ago_ms.map(|ago| NOW - ago),
            revisions,
            revisions_day: NOW / DAY_MS,
            group_revisions: 0,
        }
    }

    #[test]
    fn a_listing_pushed_moments_ago_waits_out_the_spacing_unless_forced() {
        let c = clock(Some(500), 1);
        let w = wait(&c, StorefrontKind::Woocommerce, false, NOW, 2_000);
        assert_eq!(
            w,
            Some(Wait::Spacing {
                delay_s: 2,
                interval_s: 2
            })
        );
        assert!(w
            .unwrap()
            .message("Woo")
            .contains("Woo was updated moments ago"));
        assert_eq!(
            wait(&c, StorefrontKind::Woocommerce, true, NOW, 2_000),
            None
        );
        assert_eq!(
            wait(
                &clock(Some(2_000), 1),
                StorefrontKind::Woocommerce,
                false,
                NOW,
                2_000
            ),
            None,
            "the spacing is over"
        );
        assert_eq!(
            wait(
                &clock(None, 0),
                StorefrontKind::Woocommerce,
                false,
                NOW,
                2_000
            ),
            None,
            "never pushed"
        );
    }

    #[test]
    fn each_platform_spaces_pushes_by_its_budget_and_ebay_paces_its_last_revisions() {
        let fresh = clock(Some(1_000), 10);
        assert_eq!(spacing_ms(StorefrontKind::Shopify, &fresh, NOW), 1_000);
        assert_eq!(spacing_ms(StorefrontKind::Amazon, &fresh, NOW), 2_000);
        assert_eq!(
            spacing_ms(StorefrontKind::Ebay, &fresh, NOW),
            2_000,
            "under half the cap: the platform's own spacing"
        );
        // NOW is 01:00 UTC: 23 hours left. With 100 revisions left they come every 13.8 min,
        // above the ceiling; with 200 used and 50 left, likewise the ceiling.
        let half = clock(Some(1_000), 150);
        assert_eq!(
            spacing_ms(StorefrontKind::Ebay, &half, NOW),
            MAX_CAPPED_SPACING_MS
        );
        // Late in the day the rest fit closer together.
        let late = NOW + 22 * 3_600_000 + 30 * 60_000; // 23:30 UTC, 30 min left
        let busy = PushClock {
            pushed_at: Some(late - 1_000),
            revisions_day: late / DAY_MS,
            ..half
        };
        assert_eq!(
            spacing_ms(StorefrontKind::Ebay, &busy, late),
            30 * 60_000 / 100
        );
        let w = wait(&busy, StorefrontKind::Ebay, false, late, 18_000).expect("spaced");
        assert!(matches!(w, Wait::Spacing { interval_s: 18, .. }), "{w:?}");
    }

    #[test]
    fn an_ebay_listing_at_its_daily_cap_waits_for_midnight_even_when_forced() {
        let at_cap = clock(Some(60_000), 250);
        let w = wait(&at_cap, StorefrontKind::Ebay, true, NOW, 2_000).expect("a wait");
        assert!(matches!(w, Wait::DailyCap { cap: 250, .. }), "{w:?}");
        assert_eq!(
            i64::from(w.delay_s()),
            DAY_MS / 1000 - 3_600 + 60,
            "a minute after midnight UTC"
        );
        assert!(w.message("eBay").contains("allows 250 quantity changes"));
        // Yesterday's count is not today's; the group's count is.
        let yesterday = PushClock {
            revisions_day: NOW / DAY_MS - 1,
            ..at_cap
        };
        assert_eq!(
            wait(&yesterday, StorefrontKind::Ebay, false, NOW, 2_000),
            None
        );
        let group = PushClock {
            group_revisions: 250,
            ..yesterday
        };
        assert!(wait(&group, StorefrontKind::Ebay, false, NOW, 2_000).is_some());
        // Platforms without a cap never wait for one.
        assert_eq!(
            wait(&at_cap, StorefrontKind::Shopify, true, NOW, 2_000),
            None
        );
    }

    #[test]
    fn a_failure_fails_now_retries_or_is_handed_to_the_dead_letter_queue() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay_ms: 1_000,
        };
        let down = Failure::Unavailable {
            message: "503".into(),
        };
        let retry = failed(StorefrontKind::Woocommerce, &down, 4, 1, &policy, 0.0);
        assert_eq!(retry.status, SyncStatus::Retrying);
        assert!(
            retry.message.contains("Trying again in"),
            "{}",
            retry.message
        );
        assert!(matches!(
            retry.next,
            Next::Retry {
                outbox_id: 4,
                attempt: 2,
                ..
            }
        ));
        let last = failed(StorefrontKind::Woocommerce, &down, 4, 3, &policy, 0.0);
        assert_eq!(
            last.next,
            Next::DeadLetter {
                outbox_id: 4,
                attempt: 3
            }
        );
        let refused = Failure::Auth {
            message: "bad key".into(),
        };
        let now = failed(StorefrontKind::Woocommerce, &refused, 4, 1, &policy, 0.0);
        assert_eq!(now.status, SyncStatus::Failed);
        assert!(now.action.is_some(), "a failure for good says what to do");
        assert_eq!(now.next, Next::Done);
    }

    #[test]
    fn an_invocation_starts_work_only_while_its_time_and_statements_last() {
        let mut budget = InvocationBudget::new(1_000, INVOCATION_MS, STATEMENTS_PER_INVOCATION);
        assert!(
            budget.allows(1_000 + 60_000, 5_000),
            "the first piece of work always runs"
        );
        budget.spend(500);
        assert!(budget.allows(1_000, 300));
        assert!(!budget.allows(1_000, 301), "over the statements");
        assert!(
            !budget.allows(1_000 + INVOCATION_MS + 1, 1),
            "over the time"
        );
        budget.spend(300);
        assert!(!budget.allows(1_000, 1));
        assert_eq!(budget.spent(), 800);
    }

    #[test]
    fn the_next_kind_of_work_shares_the_clock_and_the_statements_spent() {
        // Other messages get half; product rounds the rest of the whole.
        let mut others = InvocationBudget::new(0, INVOCATION_MS / 2, STATEMENTS_PER_INVOCATION / 2);
        others.spend(390);
        assert!(!others.allows(10, 25));
        let mut rounds = others.then(INVOCATION_MS, STATEMENTS_PER_INVOCATION);
        assert!(
            rounds.allows(INVOCATION_MS * 2, 900),
            "its first round still runs"
        );
        rounds.spend(300);
        assert!(rounds.allows(10, 110));
        assert!(!rounds.allows(10, 111), "390 + 300 + 111 is over 800");
        assert!(
            !rounds.allows(INVOCATION_MS + 1, 1),
            "the clock started with the invocation"
        );
    }

    #[test]
    fn settling_closes_everything_covered_and_keeps_only_a_retrying_lead() {
        let p = product(&[(3, 1), (5, 1), (6, 1)]);
        assert_eq!(
            settle(&p, 6, &Next::Done, NOW),
            Settlement {
                close: vec![3, 5, 6],
                postpone: None
            }
        );
        let retry = Next::Retry {
            outbox_id: 6,
            attempt: 2,
            delay_s: 4,
        };
        assert_eq!(
            settle(&p, 6, &retry, NOW),
            Settlement {
                close: vec![3, 5],
                postpone: Some(Postpone {
                    id: 6,
                    until: NOW + 4_000,
                    attempt: 2
                })
            }
        );
        let dead = Next::DeadLetter {
            outbox_id: 6,
            attempt: 8,
        };
        assert_eq!(
            settle(&p, 6, &dead, NOW),
            Settlement {
                close: vec![3, 5],
                postpone: None
            }
        );
    }
}
