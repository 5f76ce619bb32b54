'use strict';
// Vendure plugin (plain JS, no TS build): posts Tally's generic order webhooks.
//   order placed            -> {"event":"order.placed","order_id":"<code>","lines":[{"external_id","sku","quantity"}]}
//   order -> Cancelled      -> {"event":"order.cancelled","order_id":"<code>","lines":[...]}
// Headers: Content-Type: application/json, X-Tally-Delivery-Id: <uuid, same on retries>,
//          X-Tally-Signature: sha256=<hex HMAC-SHA256(raw body, TALLY_WEBHOOK_SECRET)>
// Config: env TALLY_WEBHOOK_URL / TALLY_WEBHOOK_SECRET, or at runtime (SuperAdmin only):
//   mutation { setTallyWebhook(url: "...", secret: "...") { url secretSet } }
//   query { tallyWebhook { url secretSet } }
const crypto = require('crypto');
const { filter } = require('rxjs/operators');
const { Inject } = require('@nestjs/common');
const { Resolver, Mutation, Query, Args } = require('@nestjs/graphql');
const { parse } = require('graphql');
const {
    VendurePlugin, PluginCommonModule, EventBus, OrderPlacedEvent, OrderStateTransitionEvent,
    TransactionalConnection, Order, Logger, Allow, Permission,
} = require('@vendure/core');

const loggerCtx = 'TallyWebhookPlugin';
const MAX_ATTEMPTS = Number(process.env.TALLY_WEBHOOK_ATTEMPTS || 5);
const BASE_DELAY_MS = Number(process.env.TALLY_WEBHOOK_BACKOFF_MS || 500);

// Shared, mutable config: env at start, then what Tally set through the admin mutation, kept in
// TALLY_WEBHOOK_FILE (server.js puts it next to the database; by default tally-webhook.json in
// the server's working directory) so a restart keeps sending.
const fs = require('fs');
const path = require('path');
const settingsFile = process.env.TALLY_WEBHOOK_FILE || path.join(process.cwd(), 'tally-webhook.json');
const settings = {
    url: process.env.TALLY_WEBHOOK_URL || '',
    secret: process.env.TALLY_WEBHOOK_SECRET || '',
};
if (settingsFile && fs.existsSync(settingsFile)) {
    try {
        Object.assign(settings, JSON.parse(fs.readFileSync(settingsFile, 'utf8')));
    } catch (e) {
        Logger.error(`could not read ${settingsFile}: ${e.message}`, 'TallyWebhookPlugin');
    }
}
function saveSettings() {
    fs.writeFileSync(settingsFile + '.tmp', JSON.stringify(settings), { mode: 0o600 });
    fs.renameSync(settingsFile + '.tmp', settingsFile);
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function deliver(payload) {
    const { url, secret } = settings; // snapshot: a retry goes where the first attempt went
    if (!url) return;
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const signature = 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
    const deliveryId = crypto.randomUUID();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        let why;
        try {
            const res = await fetch(url, {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    'X-Tally-Signature': signature,
                    'X-Tally-Delivery-Id': deliveryId,
                },
                body,
                signal: AbortSignal.timeout(10000),
            });
            const text = await res.text().catch(() => '');
            if (res.ok) {
                Logger.info(`${payload.event} ${payload.order_id} delivered (${res.status}, attempt ${attempt}, ${deliveryId})`, loggerCtx);
                return;
            }
            why = `HTTP ${res.status} ${text.slice(0, 200)}`;
            if (res.status < 500 && res.status !== 429) {
                Logger.error(`${payload.event} ${payload.order_id} refused: ${why}; not retrying (${deliveryId})`, loggerCtx);
                return;
            }
        } catch (e) {
            why = `network error: ${e.message}${e.cause ? ` (${e.cause.code || e.cause.message || e.cause})` : ''}`;
        }
        if (attempt === MAX_ATTEMPTS) {
            Logger.error(`${payload.event} ${payload.order_id} failed after ${attempt} attempts: ${why} (${deliveryId})`, loggerCtx);
            return;
        }
        const delay = BASE_DELAY_MS * 2 ** (attempt - 1);
        Logger.warn(`${payload.event} ${payload.order_id} attempt ${attempt} failed: ${why}; retrying in ${delay} ms`, loggerCtx);
        await sleep(delay);
    }
}

class TallyWebhookPlugin {
    constructor(eventBus, connection) {
        this.eventBus = eventBus;
        this.connection = connection;
    }

    onApplicationBootstrap() {
        // ofType() only emits after the publishing transaction has committed.
        this.eventBus.ofType(OrderPlacedEvent).subscribe(ev => {
            this.send('order.placed', ev.ctx, ev.order).catch(e => Logger.error(e.message, loggerCtx, e.stack));
        });
        this.eventBus
            .ofType(OrderStateTransitionEvent)
            .pipe(filter(ev => ev.toState === 'Cancelled' && ev.fromState !== 'Cancelled'))
            .subscribe(ev => {
                this.send('order.cancelled', ev.ctx, ev.order).catch(e => Logger.error(e.message, loggerCtx, e.stack));
            });
    }

    async send(event, ctx, eventOrder) {
        if (!settings.url) return;
        const order = await this.connection.getRepository(ctx, Order).findOne({
            where: { id: eventOrder.id },
            relations: { lines: { productVariant: true } },
        });
        if (!order) return;
        // An active cart that gets cancelled was never placed: Tally never saw it.
        if (event === 'order.cancelled' && !order.orderPlacedAt) return;
        // What was placed, as polling reads it too (a full cancel sets line.quantity to 0, so
        // the cancelled event reports what had been placed).
        // external_id is the variant id a Tally listing links to: it finds the product even
        // when the storefront's SKU differs from Tally's.
        const lines = order.lines
            .map(l => ({
                external_id: String(l.productVariant.id),
                sku: l.productVariant.sku,
                quantity: l.orderPlacedQuantity || l.quantity,
            }))
            .filter(l => l.quantity > 0);
        await deliver({ event, order_id: order.code, lines });
    }
}

// --- decorators applied by hand (what tsc's __decorate / emitDecoratorMetadata would do) ---
Inject(EventBus)(TallyWebhookPlugin, undefined, 0);
Inject(TransactionalConnection)(TallyWebhookPlugin, undefined, 1);

function decorateMethod(cls, name, decorators) {
    const desc = Object.getOwnPropertyDescriptor(cls.prototype, name);
    Object.defineProperty(cls.prototype, name, Reflect.decorate(decorators, cls.prototype, name, desc) || desc);
}

class TallyWebhookResolver {
    tallyWebhook() {
        return { url: settings.url || null, secretSet: !!settings.secret };
    }
    setTallyWebhook(args) {
        if (args.url !== undefined) settings.url = args.url || '';
        if (args.secret !== undefined) settings.secret = args.secret || '';
        saveSettings();
        Logger.info(`webhook url set to ${settings.url || '(none: disabled)'}`, loggerCtx);
        return this.tallyWebhook();
    }
}
Resolver()(TallyWebhookResolver);
decorateMethod(TallyWebhookResolver, 'tallyWebhook', [Query(), Allow(Permission.SuperAdmin)]);
decorateMethod(TallyWebhookResolver, 'setTallyWebhook', [Mutation(), Allow(Permission.SuperAdmin)]);
Args()(TallyWebhookResolver.prototype, 'setTallyWebhook', 0);

VendurePlugin({
    imports: [PluginCommonModule],
    compatibility: '^3.0.0',
    adminApiExtensions: {
        schema: parse(`
            type TallyWebhookConfig { url: String, secretSet: Boolean! }
            extend type Query { tallyWebhook: TallyWebhookConfig! }
            extend type Mutation { setTallyWebhook(url: String, secret: String): TallyWebhookConfig! }
        `),
        resolvers: [TallyWebhookResolver],
    },
})(TallyWebhookPlugin);

module.exports = { TallyWebhookPlugin, settings, deliver };
