-- Order ledger references become unambiguous (domain::order::order_reference): `%`, `:` and
-- `#` inside the storefront or the order id are written %25, %3A and %23, so storefront `a:b`
-- with order `c` no longer shares `a:b:c` with storefront `a` and order `b:c`, and no order
-- id can look like another order's `#cancelled` or `#refund:` line. Existing lines are
-- rewritten from their order: the longest order whose plain reference the line starts with
-- (whole, or followed by `#`) gives the escaped form, and the rest of the line is kept.
UPDATE quantity_changes SET reference = COALESCE((
  SELECT replace(replace(replace(o.storefront, '%', '%25'), ':', '%3A'), '#', '%23')
      || ':' || replace(replace(replace(o.order_id, '%', '%25'), ':', '%3A'), '#', '%23')
      || substr(quantity_changes.reference, length(o.storefront) + length(o.order_id) + 2)
  FROM orders o
  WHERE o.account_id = quantity_changes.account_id
    AND substr(quantity_changes.reference, 1, length(o.storefront) + length(o.order_id) + 1)
        = o.storefront || ':' || o.order_id
    AND (length(quantity_changes.reference) = length(o.storefront) + length(o.order_id) + 1
         OR substr(quantity_changes.reference, length(o.storefront) + length(o.order_id) + 2, 1) = '#')
  ORDER BY length(o.storefront) + length(o.order_id) DESC
  LIMIT 1
), reference)
WHERE source = 'order' AND reference IS NOT NULL;
