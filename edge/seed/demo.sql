-- Demo data for `scripts/run.sh` and the tests: one account and 1,200 products.
-- Idempotent (INSERT OR IGNORE), so running it again on an existing database changes nothing.

INSERT OR IGNORE INTO accounts (id, name, plan, created_at)
VALUES (1, 'Demo Outfitters', 'subscriber', 1767225600000);

INSERT OR IGNORE INTO products
  (account_id, sku, name, quantity, auto_sync, created_via, version, created_at, updated_at)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
SELECT
  1,
  printf('%s-%04d',
    trim(substr('TEE HOODCAP SOCKBOOTMUG BAG SCRF', (i % 8) * 4 + 1, 4)), i),
  trim(substr('Organic Cotton Tee    Zip Hoodie            Trucker Cap           Merino Socks          Trail Boot            Enamel Mug            Canvas Tote Bag       Wool Scarf            ',
    (i % 8) * 22 + 1, 22))
    || ' — ' ||
  trim(substr('Black   Navy    Sand    Forest  Rust    Slate   ', ((i / 8) % 6) * 8 + 1, 8)),
  CASE WHEN i % 17 = 0 THEN 0 ELSE (i * 37) % 240 END,
  CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END,
  CASE WHEN i % 11 = 0 THEN 'file_upload' WHEN i % 23 = 0 THEN 'order_import' ELSE 'manual' END,
  1,
  1767225600000 + i * 60000,
  1767225600000 + i * 60000
FROM n;

-- The demo sign-in (printed by scripts/run.sh): demo@tally.example / tally-demo-password,
-- and a demo API key. Local use only: never load this seed into a deployed database.
INSERT OR IGNORE INTO users (id, account_id, email, password_hash, created_at)
VALUES (1, 1, 'demo@tally.example', 'pbkdf2-sha256$100000$dGFsbHktZGVtby1zYWx0IQ$0V-MdJVjVZJALolbtD3TbxpM8PLyED4HU9R7BTdSdsM', 1767225600000);

INSERT OR IGNORE INTO api_keys (id, account_id, name, hint, digest, created_at)
VALUES (1, 1, 'Demo integration', 'tally_demo_l', '338616b31d56dc12cd3bebc213b63783db6f303afa332716ad2039bc2db062b1', 1767225600000);

-- Brands, suppliers and tags for the demo products (only where not set yet).
UPDATE products SET
  brand = CASE id % 3 WHEN 0 THEN 'Northwind' WHEN 1 THEN 'Fern & Field' ELSE 'Harbor Goods' END,
  supplier = CASE id % 2 WHEN 0 THEN 'Atlas Wholesale' ELSE 'Blue Ridge Supply' END,
  tags = CASE WHEN id % 5 = 0 THEN 'summer,sale' WHEN id % 7 = 0 THEN 'winter' ELSE 'core' END
WHERE account_id = 1 AND brand = '';
