'use strict';
// End-to-end demo against a running server.js.
// Usage: node demo.js [baseUrl]   (default http://127.0.0.1:${VENDURE_PORT:-3000})
// Env: TALLY_WEBHOOK_SECRET (default "demo-secret"), DEMO_HOOK_PORT (default 0 = any free port),
//      DEMO_USE_SERVER_ENV=1: don't call setTallyWebhook (server was started with TALLY_WEBHOOK_URL
//        pointing at http://127.0.0.1:$DEMO_HOOK_PORT/hooks/demo and the same secret),
//      DEMO_FAIL_FIRST=0: don't answer the first delivery with 503 (on by default, shows a retry).
const http = require('http');
const crypto = require('crypto');

const BASE = process.argv[2] || `http://127.0.0.1:${process.env.VENDURE_PORT || 3000}`;
const SECRET = process.env.TALLY_WEBHOOK_SECRET || 'demo-secret';
const VERBOSE = process.env.DEMO_QUIET !== '1';

// ---------------------------------------------------------------- webhook listener
const received = [];
const waiters = [];
let failFirst = process.env.DEMO_FAIL_FIRST !== '0';
const hook = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const sig = req.headers['x-tally-signature'] || '';
        const expected = 'sha256=' + crypto.createHmac('sha256', SECRET).update(raw).digest('hex');
        const ok = sig.length === expected.length && crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
        console.log(`\n[hook] ${req.method} ${req.url}`);
        console.log(`[hook]   content-type: ${req.headers['content-type']}`);
        console.log(`[hook]   x-tally-delivery-id: ${req.headers['x-tally-delivery-id']}`);
        console.log(`[hook]   x-tally-signature: ${sig} -> ${ok ? 'VALID' : 'INVALID'}`);
        console.log(`[hook]   body: ${raw.toString('utf8')}`);
        if (failFirst) {
            failFirst = false;
            console.log('[hook]   answering 503 to the first delivery (plugin should retry)');
            res.writeHead(503).end('try later');
            return;
        }
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? '{"received": true, "duplicate": false}' : '{"error": "bad signature"}');
        const entry = { headers: req.headers, body: JSON.parse(raw), ok };
        received.push(entry);
        for (const w of waiters.splice(0)) w();
    });
});
function waitForHook(event, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
        const check = () => {
            const hit = received.find(r => r.body.event === event);
            if (hit) return resolve(hit);
            waiters.push(check);
        };
        setTimeout(() => reject(new Error(`no ${event} webhook within ${timeoutMs} ms`)), timeoutMs).unref();
        check();
    });
}

// ---------------------------------------------------------------- GraphQL client
async function gql(api, label, query, variables, token) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${BASE}/${api}`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const json = await res.json();
    const newToken = res.headers.get('vendure-auth-token');
    if (VERBOSE) {
        console.log(`\n=== ${api} ${label}`);
        console.log(query.trim());
        if (variables) console.log('variables: ' + JSON.stringify(variables));
        if (newToken) console.log(`response header vendure-auth-token: ${newToken}`);
        console.log('response: ' + JSON.stringify(json));
    }
    if (json.errors) throw new Error(`${label}: ${JSON.stringify(json.errors)}`);
    return { data: json.data, token: newToken || token };
}
function expectType(result, typename, label) {
    if (!result || result.__typename !== typename) throw new Error(`${label}: expected ${typename}, got ${JSON.stringify(result)}`);
    return result;
}

const VARIANT_FIELDS = `id sku name trackInventory stockOnHand stockAllocated outOfStockThreshold useGlobalOutOfStockThreshold`;
const READ_VARIANTS = `
query Variants($options: ProductVariantListOptions) {
  productVariants(options: $options) {
    totalItems
    items { ${VARIANT_FIELDS} }
  }
}`;
async function readVariants(admin, label) {
    const { data } = await gql('admin-api', label, READ_VARIANTS, {
        options: { take: 10, skip: 0, filter: { sku: { in: ['VEN-1', 'VEN-2'] } }, sort: { sku: 'ASC' } },
    }, admin);
    for (const v of data.productVariants.items) {
        console.log(`  ${v.sku}: id=${v.id} stockOnHand=${v.stockOnHand} stockAllocated=${v.stockAllocated} ` +
            `saleable=${v.stockOnHand - v.stockAllocated - v.outOfStockThreshold}`);
    }
    return Object.fromEntries(data.productVariants.items.map(v => [v.sku, v]));
}

async function main() {
    await new Promise(r => hook.listen(Number(process.env.DEMO_HOOK_PORT || 0), '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${hook.address().port}/hooks/demo`;
    console.log(`webhook listener on ${hookUrl}`);

    // 1. login (tokenMethod 'bearer': token comes back in the vendure-auth-token header)
    const login = await gql('admin-api', 'login', `
mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    __typename
    ... on CurrentUser { id identifier }
    ... on ErrorResult { errorCode message }
  }
}`, { username: 'superadmin', password: 'superadmin' });
    expectType(login.data.login, 'CurrentUser', 'login');
    const admin = login.token;

    // 2. point the plugin at our listener (runtime config, SuperAdmin only)
    if (process.env.DEMO_USE_SERVER_ENV !== '1') {
        await gql('admin-api', 'setTallyWebhook', `
mutation SetHook($url: String, $secret: String) {
  setTallyWebhook(url: $url, secret: $secret) { url secretSet }
}`, { url: hookUrl, secret: SECRET }, admin);
    }

    // 3. product with two tracked variants (re-used if a previous run created them)
    let variants = await readVariants(admin, 'productVariants (existing?)');
    if (!variants['VEN-1'] || !variants['VEN-2']) {
        const group = await gql('admin-api', 'createProductOptionGroup', `
mutation CreateGroup($input: CreateProductOptionGroupInput!) {
  createProductOptionGroup(input: $input) { id code options { id code } }
}`, {
            input: {
                code: 'ven-size',
                translations: [{ languageCode: 'en', name: 'Size' }],
                options: [
                    { code: 'small', translations: [{ languageCode: 'en', name: 'Small' }] },
                    { code: 'large', translations: [{ languageCode: 'en', name: 'Large' }] },
                ],
            },
        }, admin);
        const { id: groupId, options } = group.data.createProductOptionGroup;
        const product = await gql('admin-api', 'createProduct', `
mutation CreateProduct($input: CreateProductInput!) {
  createProduct(input: $input) { id name slug enabled }
}`, { input: { enabled: true, translations: [{ languageCode: 'en', name: 'Vendure Demo Mug', slug: 'vendure-demo-mug', description: 'Tally demo' }] } }, admin);
        const productId = product.data.createProduct.id;
        await gql('admin-api', 'addOptionGroupToProduct', `
mutation AddGroup($productId: ID!, $optionGroupId: ID!) {
  addOptionGroupToProduct(productId: $productId, optionGroupId: $optionGroupId) { id optionGroups { id code } }
}`, { productId, optionGroupId: groupId }, admin);
        await gql('admin-api', 'createProductVariants', `
mutation CreateVariants($input: [CreateProductVariantInput!]!) {
  createProductVariants(input: $input) { ${VARIANT_FIELDS} price }
}`, {
            input: [
                { productId, sku: 'VEN-1', price: 1200, stockOnHand: 10, trackInventory: 'TRUE', optionIds: [options[0].id], translations: [{ languageCode: 'en', name: 'Vendure Demo Mug Small' }] },
                { productId, sku: 'VEN-2', price: 1500, stockOnHand: 5, trackInventory: 'TRUE', optionIds: [options[1].id], translations: [{ languageCode: 'en', name: 'Vendure Demo Mug Large' }] },
            ],
        }, admin);
    } else {
        await gql('admin-api', 'updateProductVariants (reset to 10/5)', `
mutation Update($input: [UpdateProductVariantInput!]!) {
  updateProductVariants(input: $input) { id sku stockOnHand stockAllocated }
}`, { input: [{ id: variants['VEN-1'].id, stockOnHand: 10, trackInventory: 'TRUE' }, { id: variants['VEN-2'].id, stockOnHand: 5, trackInventory: 'TRUE' }] }, admin);
    }
    variants = await readVariants(admin, 'productVariants (after create)');

    // single-SKU lookup, as Tally would do it
    await gql('admin-api', 'productVariants by sku eq', READ_VARIANTS.replace('Variants(', 'VariantBySku('), {
        options: { take: 1, skip: 0, filter: { sku: { eq: 'VEN-1' } } },
    }, admin);

    // 4. set VEN-1 stockOnHand to 7
    await gql('admin-api', 'updateProductVariants', `
mutation Update($input: [UpdateProductVariantInput!]!) {
  updateProductVariants(input: $input) { id sku stockOnHand stockAllocated }
}`, { input: [{ id: variants['VEN-1'].id, stockOnHand: 7 }] }, admin);
    variants = await readVariants(admin, 'productVariants (after update)');

    // 5. guest order through the Shop API (session token comes back on the first call)
    let shop;
    const add = await gql('shop-api', 'addItemToOrder', `
mutation Add($productVariantId: ID!, $quantity: Int!) {
  addItemToOrder(productVariantId: $productVariantId, quantity: $quantity) {
    __typename
    ... on Order { id code state totalQuantity lines { id quantity productVariant { sku } } }
    ... on ErrorResult { errorCode message }
  }
}`, { productVariantId: variants['VEN-1'].id, quantity: 2 });
    expectType(add.data.addItemToOrder, 'Order', 'addItemToOrder');
    shop = add.token;
    const cust = await gql('shop-api', 'setCustomerForOrder', `
mutation Customer($input: CreateCustomerInput!) {
  setCustomerForOrder(input: $input) {
    __typename
    ... on Order { id code customer { id emailAddress } }
    ... on ErrorResult { errorCode message }
  }
}`, { input: { emailAddress: `guest+${Date.now()}@example.com`, firstName: 'Guest', lastName: 'Buyer' } }, shop);
    expectType(cust.data.setCustomerForOrder, 'Order', 'setCustomerForOrder');
    const addr = await gql('shop-api', 'setOrderShippingAddress', `
mutation Address($input: CreateAddressInput!) {
  setOrderShippingAddress(input: $input) {
    __typename
    ... on Order { id shippingAddress { fullName city countryCode } }
    ... on ErrorResult { errorCode message }
  }
}`, { input: { fullName: 'Guest Buyer', streetLine1: '1 Main St', city: 'Springfield', postalCode: '12345', countryCode: 'US' } }, shop);
    expectType(addr.data.setOrderShippingAddress, 'Order', 'setOrderShippingAddress');
    const ship = await gql('shop-api', 'eligibleShippingMethods', `
query { eligibleShippingMethods { id code name price priceWithTax } }`, null, shop);
    const shippingMethodId = ship.data.eligibleShippingMethods[0].id;
    const setShip = await gql('shop-api', 'setOrderShippingMethod', `
mutation Ship($ids: [ID!]!) {
  setOrderShippingMethod(shippingMethodId: $ids) {
    __typename
    ... on Order { id shipping totalWithTax }
    ... on ErrorResult { errorCode message }
  }
}`, { ids: [shippingMethodId] }, shop);
    expectType(setShip.data.setOrderShippingMethod, 'Order', 'setOrderShippingMethod');
    const trans = await gql('shop-api', 'transitionOrderToState', `
mutation { transitionOrderToState(state: "ArrangingPayment") {
  __typename
  ... on Order { id code state }
  ... on OrderStateTransitionError { errorCode message transitionError fromState toState }
} }`, null, shop);
    expectType(trans.data.transitionOrderToState, 'Order', 'transitionOrderToState');
    const pay = await gql('shop-api', 'addPaymentToOrder', `
mutation Pay($input: PaymentInput!) {
  addPaymentToOrder(input: $input) {
    __typename
    ... on Order { id code state active orderPlacedAt totalWithTax payments { id method state amount } }
    ... on ErrorResult { errorCode message }
  }
}`, { input: { method: 'dummy-payment', metadata: {} } }, shop);
    const order = expectType(pay.data.addPaymentToOrder, 'Order', 'addPaymentToOrder');
    console.log(`\norder ${order.code} (id ${order.id}) is ${order.state}`);

    // 6. the webhook
    const placed = await waitForHook('order.placed');
    console.log(`\nplugin posted order.placed for ${placed.body.order_id}: signature ${placed.ok ? 'valid' : 'INVALID'}`);
    if (placed.body.order_id !== order.code) throw new Error('order_id mismatch');
    const after = await readVariants(admin, 'productVariants (after order)');
    console.log(`VEN-1 after a settled order of 2: stockOnHand ${variants['VEN-1'].stockOnHand} -> ${after['VEN-1'].stockOnHand}, ` +
        `stockAllocated ${variants['VEN-1'].stockAllocated} -> ${after['VEN-1'].stockAllocated}`);

    // 7. cancel through the Admin API
    const cancel = await gql('admin-api', 'cancelOrder', `
mutation Cancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) {
    __typename
    ... on Order { id code state lines { quantity orderPlacedQuantity productVariant { sku } } }
    ... on ErrorResult { errorCode message }
  }
}`, { input: { orderId: order.id, reason: 'demo', cancelShipping: true } }, admin);
    expectType(cancel.data.cancelOrder, 'Order', 'cancelOrder');
    const cancelled = await waitForHook('order.cancelled');
    console.log(`\nplugin posted order.cancelled for ${cancelled.body.order_id}: signature ${cancelled.ok ? 'valid' : 'INVALID'}`);
    const end = await readVariants(admin, 'productVariants (after cancel)');
    console.log(`VEN-1 after cancel: stockOnHand ${end['VEN-1'].stockOnHand}, stockAllocated ${end['VEN-1'].stockAllocated}`);
    console.log('\nDEMO OK');
}

main()
    .catch(e => { console.error('DEMO FAILED:', e); process.exitCode = 1; })
    .finally(() => hook.close());
