'use strict';
// A shopper's order on the demo Vendure, as its storefront would place it: a guest checkout
// through the Shop API, paid with the dummy handler (settled at once).
// Usage: node order.js <SKU> [quantity] [baseUrl]   (default http://127.0.0.1:${VENDURE_PORT:-3000})
//        node order.js --cancel <ORDER CODE> [baseUrl]   (as the shop owner, through the Admin API)
const args = process.argv.slice(2);
const cancel = args[0] === '--cancel';
if (cancel) args.shift();
const [first, second, third] = args;
const BASE = (cancel ? second : third) || `http://127.0.0.1:${process.env.VENDURE_PORT || 3000}`;

async function gql(api, query, variables, token) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${BASE}/${api}`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const json = await res.json();
    if (json.errors) throw new Error(JSON.stringify(json.errors));
    return { data: json.data, token: res.headers.get('vendure-auth-token') || token };
}

async function admin() {
    const { token } = await gql('admin-api', 'mutation { login(username: "superadmin", password: "superadmin") { __typename } }');
    return token;
}

async function place(sku, quantity) {
    const token = await admin();
    const { data } = await gql('admin-api', 'query($sku: String!) { productVariants(options: {filter: {sku: {eq: $sku}}}) { items { id stockOnHand stockAllocated } } }', { sku }, token);
    const variant = data.productVariants.items[0];
    if (!variant) throw new Error(`Vendure has no variant with SKU ${sku}`);
    let shop;
    const step = async (query, variables) => {
        const r = await gql('shop-api', query, variables, shop);
        shop = r.token;
        const result = Object.values(r.data)[0];
        if (result && result.errorCode) throw new Error(`${result.errorCode}: ${result.message}`);
        return result;
    };
    await step('mutation($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v, quantity: $q) { ... on ErrorResult { errorCode message } } }', { v: variant.id, q: quantity });
    await step('mutation($i: CreateCustomerInput!) { setCustomerForOrder(input: $i) { ... on ErrorResult { errorCode message } } }',
        { i: { emailAddress: 'shopper@example.com', firstName: 'Sam', lastName: 'Shopper' } });
    await step('mutation($i: CreateAddressInput!) { setOrderShippingAddress(input: $i) { ... on ErrorResult { errorCode message } } }',
        { i: { fullName: 'Sam Shopper', streetLine1: '1 Main St', city: 'Springfield', postalCode: '12345', countryCode: 'US' } });
    const methods = await step('{ eligibleShippingMethods { id } }');
    await step('mutation($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) { ... on ErrorResult { errorCode message } } }', { ids: [methods[0].id] });
    await step('mutation { transitionOrderToState(state: "ArrangingPayment") { ... on ErrorResult { errorCode message } } }');
    const order = await step('mutation { addPaymentToOrder(input: {method: "dummy-payment", metadata: {}}) { ... on Order { code state } ... on ErrorResult { errorCode message } } }');
    if (order.state !== 'PaymentSettled') throw new Error(`order ${order.code} is ${order.state}, not paid`);
    console.log(`Order ${order.code} (${order.state}): ${quantity} × ${sku}. Vendure holds them; Tally hears of it in seconds.`);
}

async function cancelOrder(code) {
    const token = await admin();
    const { data } = await gql('admin-api', 'query($c: String!) { orders(options: {filter: {code: {eq: $c}}}) { items { id } } }', { c: code }, token);
    const order = data.orders.items[0];
    if (!order) throw new Error(`Vendure has no order ${code}`);
    const { data: done } = await gql('admin-api', 'mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { ... on ErrorResult { errorCode message } } }',
        { i: { orderId: order.id, reason: 'cancelled from order.js', cancelShipping: true } }, token);
    if (done.cancelOrder.errorCode) throw new Error(`${done.cancelOrder.errorCode}: ${done.cancelOrder.message}`);
    console.log(`Order ${code} cancelled: its units go back on the shelf in Vendure and in Tally.`);
}

(cancel ? cancelOrder(first) : place(first, Number(second || 1)))
    .catch(e => { console.error(e.message); process.exitCode = 1; });
