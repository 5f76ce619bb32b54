'use strict';
// Connects the demo seller's Tally to the local Vendure (scripts/run.sh --vendure), the way a
// seller would: Vendure gets variants with the SKUs of Tally's demo products 1–6, Tally
// connects with a SuperAdmin token (which points Tally's plugin at the connection's webhook
// address) and imports Vendure's listings, which links them by SKU.
// Usage: node demo-tally.js <tallyUrl> <vendureUrl>
const [TALLY, VENDURE] = process.argv.slice(2);
if (!TALLY || !VENDURE) {
    console.error('usage: node demo-tally.js <tallyUrl> <vendureUrl>');
    process.exit(2);
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function vendure(query, variables, token) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${VENDURE}/admin-api`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const json = await res.json();
    if (json.errors) throw new Error(`Vendure: ${JSON.stringify(json.errors)}`);
    return { data: json.data, token: res.headers.get('vendure-auth-token') || token };
}

let session;
async function tally(method, path, body) {
    const headers = { 'content-type': 'application/json', 'x-tally-csrf': '1' };
    if (session) headers.cookie = session;
    const res = await fetch(`${TALLY}/api/v1${path}`, { method, headers, body: body && JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`Tally ${method} ${path}: ${res.status} ${text}`);
    const cookie = res.headers.get('set-cookie');
    if (cookie && cookie.startsWith('__Host-tally_session=')) session = cookie.split(';')[0];
    return text ? JSON.parse(text) : null;
}

async function main() {
    await tally('POST', '/auth/login', { email: 'demo@tally.example', password: 'tally-demo-password' });
    const { storefronts } = await tally('GET', '/storefronts');
    const existing = storefronts.find(s => s.kind === 'vendure' && s.base_url === VENDURE);
    if (existing) {
        const again = await tally('POST', `/storefronts/${existing.id}/subscribe`);
        const failed = (again.webhooks || []).filter(t => !t.ok).map(t => t.message);
        if (failed.length) throw new Error(`Vendure is connected but its webhook could not be set again: ${failed.join(' ')} (delete .tally to start both afresh)`);
        console.log(`Vendure already connected as "${existing.name}"; its webhook address is set again.`);
        return;
    }

    const { token } = await vendure('mutation { login(username: "superadmin", password: "superadmin") { __typename } }');
    // Products 1–6: listed on the sandboxes too, with Auto Sync on (scripts/demo-storefronts.sh).
    for (const id of [1, 2, 3, 4, 5, 6]) {
        const p = await tally('GET', `/products/${id}`);
        const { data } = await vendure('query($sku: String!) { productVariants(options: {filter: {sku: {eq: $sku}}}) { totalItems } }', { sku: p.sku }, token);
        if (data.productVariants.totalItems > 0) continue;
        const created = await vendure('mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }', {
            i: { enabled: true, translations: [{ languageCode: 'en', name: p.name, slug: p.sku.toLowerCase(), description: '' }] },
        }, token);
        await vendure('mutation($i: [CreateProductVariantInput!]!) { createProductVariants(input: $i) { id } }', {
            i: [{ productId: created.data.createProduct.id, sku: p.sku, price: 2500, stockOnHand: 0, trackInventory: 'TRUE', optionIds: [],
                translations: [{ languageCode: 'en', name: p.name }] }],
        }, token);
    }

    const store = await tally('POST', '/storefronts', { name: 'Vendure (local)', kind: 'vendure', base_url: VENDURE, credential: token });
    const hooks = store.webhooks.every(t => t.ok) ? 'its orders reach Tally by webhook' : `webhook: ${store.webhooks.map(t => t.message).join(' ')}`;
    let job = await tally('POST', `/storefronts/${store.id}/imports`, {});
    for (let i = 0; i < 120 && job.status === 'reading'; i++) {
        await sleep(500);
        job = await tally('GET', `/imports/${job.id}`);
    }
    if (job.status !== 'ready') throw new Error(`the listing import did not finish: ${JSON.stringify(job)}`);
    await tally('POST', `/imports/${job.id}/apply`, {});
    console.log(`Connected Vendure (${VENDURE}); ${hooks}. Imported its listings: ${job.counts.matched} matched Tally's SKUs.`);
}

main().catch(e => {
    console.error(e.message);
    process.exitCode = 1;
});
