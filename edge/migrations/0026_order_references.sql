-- Order ledger references become unambiguous (domain::order::order_reference): `%`, `:` and
-- `#` inside the storefront or the order id are written %25, %3A and %23, so storefront `a:b`
-- with order `c` no longer shares `a:b:c` with storefront `a` and order `b:c`, and no order
-- id can look like another order's `#cancelled` or `#refund:` line.
--
-- Existing lines are rewritten from their order: an order whose plain reference the line
-- starts with (whole, or followed by `#`). A sale line is written in the same instant as its
-- order, so it goes to the order created then; other lines (cancels, refunds) to the longest
-- such order, so a cancel line of order `7` is given to an order `7#cancelled` if one exists:
-- lines that were ambiguous stay with one of their orders, as ambiguous as before (new lines
-- never are). Cancel and refund lines first, while every sale line still reads as before.
UPDATE quantity_changes SET reference = (
  SELECT replace(replace(replace(o.storefront, '%', '%25'), ':', '%3A'), '#', '%23')
      || ':' || replace(replace(replace(o.order_id, '%', '%25'), ':', '%3A'), '#', '%23')
      || substr(quantity_changes.reference, length(o.storefront) + length(o.order_id) + 2)
  FROM orders o
  WHERE o.account_id = quantity_changes.account_id
    AND substr(quantity_changes.reference, 1, length(o.storefront) + length(o.order_id) + 1)
        = o.storefront || ':' || o.order_id
    AND (length(quantity_changes.reference) = length(o.storefront) + length(o.order_id) + 1
         OR substr(quantity_changes.reference, length(o.storefront) + length(o.order_id) + 2, 1) = '#')
  ORDER BY length(o.storefront) + length(o.order_id) DESC, o.rowid
  LIMIT 1)
WHERE source = 'order' AND reference IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM orders o
    WHERE o.account_id = quantity_changes.account_id AND o.created_at = quantity_changes.created_at
      AND quantity_changes.reference = o.storefront || ':' || o.order_id)
  AND EXISTS (
    SELECT 1 FROM orders o
    WHERE o.account_id = quantity_changes.account_id
      AND substr(quantity_changes.reference, 1, length(o.storefront) + length(o.order_id) + 1)
          = o.storefront || ':' || o.order_id
      AND (length(quantity_changes.reference) = length(o.storefront) + length(o.order_id) + 1
           OR substr(quantity_changes.reference, length(o.storefront) + length(o.order_id) + 2, 1) = '#'));

UPDATE quantity_changes SET reference = (
  SELECT replace(replace(replace(o.storefront, '%', '%25'), ':', '%3A'), '#', '%23')
      || ':' || replace(replace(replace(o.order_id, '%', '%25'), ':', '%3A'), '#', '%23')
  FROM orders o
  WHERE o.account_id = quantity_changes.account_id AND o.created_at = quantity_changes.created_at
    AND quantity_changes.reference = o.storefront || ':' || o.order_id
  ORDER BY o.rowid
  LIMIT 1)
WHERE source = 'order' AND reference IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM orders o
    WHERE o.account_id = quantity_changes.account_id AND o.created_at = quantity_changes.created_at
      AND quantity_changes.reference = o.storefront || ':' || o.order_id);
