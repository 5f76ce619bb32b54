//! Sending a round's pushes: each storefront's in its API's batches, paced to its limits,
//! storefronts side by side; the reads some platforms need first (`connector::build_preflight`);
//! and Shopify's compare-and-set retry after reading what the storefront holds. One result per
//! planned push comes back to the round (`engine::run`), which writes what they mean.

use crate::clock::now_ms;
use crate::connection::target;
use crate::engine::Planned;
use crate::polling;
use crate::store::listings::ListingRow;
use crate::storefront_http;
use futures_util::future::join_all;
use std::collections::{BTreeMap, VecDeque};
use tally_domain::connector::{self, Failure, HttpRequest, ItemResult, Preflight, Push, Target};
use tally_domain::AccountId;
use worker::Env;

/// Sends every planned push, storefronts side by side, each storefront's requests in turn.
/// Returns one result per planned push, in order.
pub(crate) async fn push_all(
    env: &Env,
    account: AccountId,
    planned: &[Planned<'_>],
    timeout_ms: u64,
    deadline: i64,
) -> Vec<ItemResult> {
    let mut by_storefront: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        by_storefront
            .entry(p.row.storefront_id)
            .or_default()
            .push(i);
    }
    let rounds = by_storefront
        .values()
        .map(|indexes| push_to_storefront(env, account, planned, indexes, timeout_ms, deadline));
    let mut results: Vec<Option<ItemResult>> = vec![None; planned.len()];
    for (indexes, outcome) in by_storefront.values().zip(join_all(rounds).await) {
        for (i, result) in indexes.iter().zip(outcome) {
            results[*i] = Some(result);
        }
    }
    planned
        .iter()
        .zip(results)
        .map(|(p, r)| {
            r.unwrap_or_else(|| ItemResult {
                listing_id: p.row.id,
                outcome: Err(Failure::Unavailable {
                    message: "not sent".into(),
                }),
                answer: "not sent".into(),
            })
        })
        .collect()
}

/// One storefront's pushes; one result per index, in order.
async fn push_to_storefront(
    env: &Env,
    account: AccountId,
    planned: &[Planned<'_>],
    indexes: &[usize],
    timeout_ms: u64,
    deadline: i64,
) -> Vec<ItemResult> {
    let first = &planned[indexes[0]].row;
    let target = match target(env, first, timeout_ms).await {
        Ok(t) => t,
        Err(failure) => {
            // No request could be made: every listing gets the reason (a refused renewal is
            // an auth failure, with its fix; a timeout is retried).
            let answer = failure.message().to_owned();
            return indexes
                .iter()
                .map(|i| ItemResult {
                    listing_id: planned[*i].row.id,
                    outcome: Err(failure.clone()),
                    answer: answer.clone(),
                })
                .collect();
        }
    };
    let mut pushes: Vec<Push> = indexes.iter().map(|i| to_push(&planned[*i])).collect();
    // Listings the storefront keeps itself (Amazon FBA) are not pushed at all; Vendure's
    // pushes learn what it holds for placed orders.
    let not_ours = preflight(&target, &mut pushes, timeout_ms, deadline).await;
    pushes.retain(|p| !not_ours.contains_key(&p.listing_id));
    let mut by_listing = send_pushes(&target, &pushes, timeout_ms, deadline).await;
    by_listing.extend(not_ours);
    // Shopify's compare-and-set missed: read what the storefront holds and try once more.
    let stale: Vec<i64> = by_listing
        .values()
        .filter(|r| matches!(r.outcome, Err(Failure::Stale { .. })))
        .map(|r| r.listing_id)
        .collect();
    if !stale.is_empty() {
        // Never erase a sale: the storefront changed something Tally has not heard of. Its
        // recent orders are read and applied first; when that finds any, these pushes wait
        // for the new quantity (their retry plans again) instead of overwriting the sale.
        if let Some(note) = unheard_orders(env, account, first).await {
            for id in &stale {
                if let Some(result) = by_listing.get_mut(id) {
                    result.outcome = Err(Failure::Stale {
                        message: note.clone(),
                        current: None,
                    });
                }
            }
            return in_order(planned, indexes, by_listing);
        }
        pushes.retain(|p| stale.contains(&p.listing_id));
        let current = reread(&target, &pushes, timeout_ms, deadline).await;
        for p in &mut pushes {
            p.expected_current = current.get(&p.listing_id).copied();
        }
        by_listing.extend(send_pushes(&target, &pushes, timeout_ms, deadline).await);
    }
    in_order(planned, indexes, by_listing)
}

/// One result per index, in order.
fn in_order(
    planned: &[Planned<'_>],
    indexes: &[usize],
    mut by_listing: BTreeMap<i64, ItemResult>,
) -> Vec<ItemResult> {
    indexes
        .iter()
        .map(|i| {
            let id = planned[*i].row.id;
            by_listing.remove(&id).unwrap_or_else(|| ItemResult {
                listing_id: id,
                outcome: Err(Failure::Unavailable {
                    message: "no answer for this listing".into(),
                }),
                answer: "no answer".into(),
            })
        })
        .collect()
}

/// Reads `row`'s storefront's recent orders now and applies those Tally had not heard of;
/// what it found, for the sync history, when it found any. A poll that fails leaves Tally's
/// number standing (the push goes ahead, as before polling existed).
async fn unheard_orders(env: &Env, account: AccountId, row: &ListingRow) -> Option<String> {
    let report = match polling::poll(env, account, row.storefront_id).await {
        Ok(report) => report,
        Err(e) => {
            worker::console_error!(
                "reading {}'s orders before a push: {e}",
                row.storefront_name
            );
            return None;
        }
    };
    (!report.applied.is_empty()).then(|| {
        format!(
            "{} held another number than Tally last sent, so Tally read its recent orders \
             first and applied {} it had not heard of ({}); the new quantity follows.",
            row.storefront_name,
            if report.applied.len() == 1 {
                "1 order".to_owned()
            } else {
                format!("{} orders", report.applied.len())
            },
            report.applied.join(", ")
        )
    })
}

/// The reads a platform needs before pushing (`connector::build_preflight`). Sets each push's
/// `held` from what the storefront holds for placed orders, and returns the listings that must
/// not be pushed, with why. A read that fails leaves its listing for the retry.
async fn preflight(
    target: &Target,
    pushes: &mut [Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, ItemResult> {
    let limits = connector::limits(target.kind);
    let mut refused = BTreeMap::new();
    for (n, request) in connector::build_preflight(target, pushes)
        .iter()
        .enumerate()
    {
        if n > 0 {
            storefront_http::pause(limits.min_interval_ms).await;
        }
        let unread = |why: String| -> Vec<(i64, Preflight)> {
            let failure = Failure::Unavailable { message: why };
            request
                .listing_ids
                .iter()
                .map(|&id| (id, Preflight::Skip(failure.clone())))
                .collect()
        };
        let verdicts = if now_ms() + timeout_ms as i64 > deadline {
            unread("not read: this round ran out of time".to_owned())
        } else {
            match storefront_http::send(request, timeout_ms).await {
                Ok(response) => connector::parse_preflight(target, request, &response),
                Err(message) => unread(format!(
                    "{} did not answer when Tally read the listing ({message})",
                    target.kind.label()
                )),
            }
        };
        // A listing the read gave no verdict for is not pushed this round: pushing it without
        // what the storefront holds for orders could take a sale off twice.
        let missing: Vec<(i64, Preflight)> = request
            .listing_ids
            .iter()
            .filter(|id| !verdicts.iter().any(|(v, _)| v == *id))
            .map(|&id| {
                let message = "the read before pushing said nothing of this listing".to_owned();
                (id, Preflight::Skip(Failure::Unavailable { message }))
            })
            .collect();
        for (listing_id, verdict) in verdicts.into_iter().chain(missing) {
            match verdict {
                Preflight::Push { held } => {
                    if let Some(push) = pushes.iter_mut().find(|p| p.listing_id == listing_id) {
                        push.held = held;
                    }
                }
                Preflight::Skip(failure) => {
                    let answer: String = format!("Read before pushing: {}", failure.message())
                        .chars()
                        .take(200)
                        .collect();
                    refused.insert(
                        listing_id,
                        ItemResult {
                            listing_id,
                            outcome: Err(failure),
                            answer,
                        },
                    );
                }
            }
        }
    }
    refused
}

/// Sends pushes in the connector's batches, paced to its limits. A call the storefront refused
/// whole for an item it did not name is sent again in halves (see
/// `connector::refused_without_naming`), so only the wrong listing fails.
async fn send_pushes(
    target: &Target,
    pushes: &[Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, ItemResult> {
    let limits = connector::limits(target.kind);
    let by_listing: BTreeMap<i64, &Push> = pushes.iter().map(|p| (p.listing_id, p)).collect();
    let mut results = BTreeMap::new();
    let mut to_send: VecDeque<HttpRequest> = connector::build_requests(target, pushes).into();
    let mut sent = 0;
    while let Some(request) = to_send.pop_front() {
        if sent > 0 {
            storefront_http::pause(limits.min_interval_ms).await;
        }
        sent += 1;
        if now_ms() + timeout_ms as i64 > deadline {
            // Left for the retry, which takes a fresh lease and reads the quantity again.
            let items = connector::unreachable(&request, "not sent: this round ran out of time");
            results.extend(items.into_iter().map(|i| (i.listing_id, i)));
            continue;
        }
        let items = match storefront_http::send(&request, timeout_ms).await {
            Ok(response) if connector::refused_without_naming(target, &request, &response) => {
                let (first, second) = request.listing_ids.split_at(request.listing_ids.len() / 2);
                for half in [second, first] {
                    let half: Vec<Push> = half
                        .iter()
                        .filter_map(|id| by_listing.get(id).map(|p| (*p).clone()))
                        .collect();
                    for split in connector::build_requests(target, &half).into_iter().rev() {
                        to_send.push_front(split);
                    }
                }
                continue;
            }
            Ok(response) => {
                let items = connector::parse_response(target, &request, &response);
                if let Some(wait) = connector::pause_after(target, &response) {
                    storefront_http::pause(wait.min(5_000)).await;
                }
                items
            }
            Err(message) => connector::unreachable(&request, &message),
        };
        for item in items {
            results.insert(item.listing_id, item);
        }
    }
    results
}

async fn reread(
    target: &Target,
    pushes: &[Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, i64> {
    let mut current = BTreeMap::new();
    for request in connector::build_reread(target, pushes) {
        if now_ms() + timeout_ms as i64 > deadline {
            break;
        }
        if let Ok(response) = storefront_http::send(&request, timeout_ms).await {
            current.extend(connector::parse_reread(target, &request, &response));
        }
    }
    current
}

fn to_push(p: &Planned<'_>) -> Push {
    Push {
        listing_id: p.row.id,
        version: p.row.version,
        quantity: p.quantity.quantity,
        external_id: p.row.external_id.clone(),
        external_sub_id: p.row.external_sub_id.clone(),
        expected_current: p.row.pushed_quantity,
        key_round: p.row.push_key_round,
        manage_stock: p.row.manage_stock == 1,
        held: 0,
    }
}
