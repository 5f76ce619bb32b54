//! Whether a product's storefronts hold Tally's quantity, as SQL over `FROM products` (not
//! aliased): how many listings a push reaches, how its newest push went, and the "Not synced"
//! condition. The inventory's Storefronts column and its `synced=no` filter read these, so
//! they agree by construction.

use super::listings::REACHABLE;

/// The product's listings a push reaches.
fn reachable() -> String {
    format!("{REACHABLE} AND l.account_id = products.account_id AND l.product_id = products.id")
}

/// How many listings a push of the product reaches.
pub fn listings() -> String {
    format!("(SELECT COUNT(*) {})", reachable())
}

/// `{"status", "at"}` of the product's newest push, or NULL. A push of one version goes to
/// every listing (one outbox entry), so its status is the worst of those rows: one failed
/// listing is not hidden by another's success written after it. With no history left (the
/// retention window passed) the listings' own record of their last push stands in.
pub fn last_push() -> String {
    format!(
        "coalesce( \
           (SELECT json_object('status', h.status, 'at', h.created_at) FROM sync_history h \
             WHERE h.account_id = products.account_id AND h.outbox_id = \
               (SELECT n.outbox_id FROM sync_history n WHERE n.product_id = products.id \
                  AND n.account_id = products.account_id ORDER BY n.id DESC LIMIT 1) \
             ORDER BY CASE h.status WHEN 'failed' THEN 0 WHEN 'retrying' THEN 1 \
               WHEN 'queued' THEN 2 WHEN 'sent' THEN 3 ELSE 4 END, h.id DESC LIMIT 1), \
           (SELECT json_object('status', 'succeeded', 'at', MAX(l.pushed_at)) {} \
             HAVING MAX(l.pushed_at) IS NOT NULL))",
        reachable()
    )
}

/// Products whose storefronts may not hold Tally's quantity: a listing a push reaches, and
/// Auto Sync off, or a listing never pushed to, or the newest push failed or is retrying.
pub fn not_synced() -> String {
    let reachable = reachable();
    format!(
        "EXISTS (SELECT 1 {reachable}) AND (auto_sync = 0 \
           OR EXISTS (SELECT 1 {reachable} AND l.pushed_version IS NULL) \
           OR json_extract({}, '$.status') IN ('failed', 'retrying'))",
        last_push()
    )
}
