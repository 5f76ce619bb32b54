//! What each plan may hold at once. One worker serves every seller, so each account's share of
//! it is bounded: storefront connections (each one polls, pushes and renews tokens), jobs
//! running in the background (each one takes queue deliveries) and inventory files staged but
//! not yet applied (each one holds up to a file's rows in the database until it expires).
//!
//! The edge checks a limit in the same statement that adds the thing it limits, so two
//! requests at once cannot both take the last place.

use crate::account::Plan;

/// An account's limits on its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Active storefront connections (a deactivated one does not count).
    pub storefronts: u32,
    /// Bulk jobs running at once.
    pub running_jobs: u32,
    /// Inventory files uploaded and not yet applied (they expire after a day).
    pub pending_uploads: u32,
}

impl Plan {
    pub fn limits(self) -> Limits {
        match self {
            Plan::Free => Limits {
                storefronts: 5,
                running_jobs: 2,
                pending_uploads: 5,
            },
            Plan::Subscriber => Limits {
                storefronts: 50,
                running_jobs: 5,
                pending_uploads: 20,
            },
        }
    }
}

/// Which limit a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Storefronts,
    RunningJobs,
    PendingUploads,
}

impl Quota {
    /// The limit on `plan`.
    pub fn limit(self, plan: Plan) -> u32 {
        let limits = plan.limits();
        match self {
            Quota::Storefronts => limits.storefronts,
            Quota::RunningJobs => limits.running_jobs,
            Quota::PendingUploads => limits.pending_uploads,
        }
    }
}

/// A request that would go past the plan's limit, with what the seller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", message(*quota, *plan))]
pub struct OverLimit {
    pub quota: Quota,
    pub plan: Plan,
}

fn message(quota: Quota, plan: Plan) -> String {
    let limit = quota.limit(plan);
    let (what, fix) = match quota {
        Quota::Storefronts => (
            "active storefront connections",
            "deactivate one you no longer sell on in Settings › Storefronts",
        ),
        Quota::RunningJobs => (
            "bulk jobs running at once",
            "wait for one to finish or cancel it in the inventory's job panel",
        ),
        Quota::PendingUploads => (
            "inventory files waiting to be applied",
            "apply one first, or wait: a file not applied expires a day after its upload",
        ),
    };
    let plan_name = match plan {
        Plan::Free => "free",
        Plan::Subscriber => "subscriber",
    };
    let upgrade = match plan {
        Plan::Free => ", or subscribe for more",
        Plan::Subscriber => "",
    };
    format!("the {plan_name} plan allows {limit} {what}: {fix}{upgrade}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_get_more_of_everything() {
        for quota in [
            Quota::Storefronts,
            Quota::RunningJobs,
            Quota::PendingUploads,
        ] {
            assert!(
                quota.limit(Plan::Subscriber) > quota.limit(Plan::Free),
                "{quota:?}"
            );
        }
    }

    #[test]
    fn the_message_names_the_limit_and_the_way_out() {
        let free = OverLimit {
            quota: Quota::Storefronts,
            plan: Plan::Free,
        }
        .to_string();
        assert_eq!(
            free,
            "the free plan allows 5 active storefront connections: deactivate one you no longer \
             sell on in Settings › Storefronts, or subscribe for more"
        );
        let paid = OverLimit {
            quota: Quota::RunningJobs,
            plan: Plan::Subscriber,
        }
        .to_string();
        assert!(
            paid.starts_with("the subscriber plan allows 5 bulk jobs"),
            "{paid}"
        );
        assert!(!paid.contains("subscribe for more"), "{paid}");
    }
}
