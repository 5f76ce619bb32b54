//! Auto Sync decisions: what goes on the queue, and what the sync history records.
//!
//! Queue delivery is at-least-once and unordered, so a message only names *what is dirty*
//! (a product); the consumer reads the current quantity when it acts. Two deliveries of the
//! same message, or two messages for one product, converge on the same result.

use crate::product::{AccountId, ProductId};
use serde::{Deserialize, Serialize};

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
    },
    /// Continue a bulk job from where it stands (its cursor is in D1, so a repeat is harmless).
    BulkJob { account_id: AccountId, job_id: i64 },
    /// The health check's round trip through the queue.
    Ping { nonce: String },
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
}

impl SyncTrigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncTrigger::Adjustment => "adjustment",
            SyncTrigger::Order => "order",
            SyncTrigger::Upload => "upload",
            SyncTrigger::SyncNow => "sync_now",
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

/// A listing of a product on a storefront that Auto Sync pushes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveListing {
    pub listing_id: i64,
    pub storefront_name: String,
}

/// One line for the sync history, decided by [`plan_pushes`].
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

/// Decides what a changed product's quantity means for each of its active listings.
///
/// Every active listing gets a queued push of the current quantity. A product with no active
/// listing gets one skipped entry that says so, so a seller who expected a push sees why none
/// happened instead of silence.
pub fn plan_pushes(quantity: i64, listings: &[ActiveListing]) -> Vec<PlannedEntry> {
    if listings.is_empty() {
        return vec![PlannedEntry {
            listing_id: None,
            storefront_name: None,
            quantity,
            status: SyncStatus::Skipped,
            message: "No active listings for this product, so there was nothing to push.".into(),
            action: Some(
                "Link the product to a storefront listing to keep that storefront in sync.".into(),
            ),
        }];
    }
    listings
        .iter()
        .map(|l| PlannedEntry {
            listing_id: Some(l.listing_id),
            storefront_name: Some(l.storefront_name.clone()),
            quantity,
            status: SyncStatus::Queued,
            message: format!("Quantity {quantity} queued for {}.", l.storefront_name),
            action: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_without_listings_records_one_skipped_entry_saying_why() {
        let plan = plan_pushes(7, &[]);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].status, SyncStatus::Skipped);
        assert!(plan[0].message.contains("No active listings"));
        assert!(plan[0]
            .action
            .as_deref()
            .unwrap()
            .contains("Link the product"));
    }

    #[test]
    fn every_active_listing_gets_a_queued_push_of_the_current_quantity() {
        let listings = [
            ActiveListing {
                listing_id: 1,
                storefront_name: "Shopify".into(),
            },
            ActiveListing {
                listing_id: 2,
                storefront_name: "eBay".into(),
            },
        ];
        let plan = plan_pushes(12, &listings);
        assert_eq!(plan.len(), 2);
        assert!(plan
            .iter()
            .all(|e| e.status == SyncStatus::Queued && e.quantity == 12));
        assert_eq!(plan[1].storefront_name.as_deref(), Some("eBay"));
    }

    #[test]
    fn queue_messages_are_tagged_by_kind() {
        let msg = SyncMessage::ProductChanged {
            account_id: AccountId(1),
            product_id: ProductId(9),
            outbox_id: 3,
        };
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["kind"], "product_changed");
        assert_eq!(serde_json::from_value::<SyncMessage>(json).unwrap(), msg);
    }
}
