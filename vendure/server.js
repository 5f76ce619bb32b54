'use strict';
// Vendure 3.7 on sql.js (SQLite in-process), plain JS.
// Usage: VENDURE_PORT=3000 node server.js [dataDir]   (or env VENDURE_DATA_DIR; default ./data)
// Env: TALLY_WEBHOOK_URL, TALLY_WEBHOOK_SECRET (see tally-webhook-plugin.js), VENDURE_LOG=info|warn|debug
const fs = require('fs');
const path = require('path');
const t0 = Date.now();
// Vendure 3.x phones home (telemetry.vendure.io) unless told not to.
if (process.env.VENDURE_DISABLE_TELEMETRY === undefined) process.env.VENDURE_DISABLE_TELEMETRY = 'true';
const {
    bootstrap, DefaultLogger, LogLevel, LanguageCode, Populator, TransactionalConnection, Country,
    dummyPaymentHandler, defaultShippingCalculator, defaultShippingEligibilityChecker,
} = require('@vendure/core');

const port = Number(process.env.VENDURE_PORT || 3000);
const dataDir = path.resolve(process.argv[2] || process.env.VENDURE_DATA_DIR || path.join(__dirname, 'data'));
fs.mkdirSync(dataDir, { recursive: true });
const dbFile = path.join(dataDir, 'vendure.sqlite');
const firstStart = !fs.existsSync(dbFile);
// Where the webhook plugin keeps the address and secret Tally set (read when it loads).
if (!process.env.TALLY_WEBHOOK_FILE) process.env.TALLY_WEBHOOK_FILE = path.join(dataDir, 'tally-webhook.json');
const { TallyWebhookPlugin } = require('./tally-webhook-plugin');
const logLevel = { debug: LogLevel.Debug, info: LogLevel.Info, warn: LogLevel.Warn, error: LogLevel.Error }[
    process.env.VENDURE_LOG || 'warn'
];

const config = {
    apiOptions: {
        hostname: '127.0.0.1',
        port,
        adminApiPath: 'admin-api',
        shopApiPath: 'shop-api',
        // Only server-to-server callers (Tally, curl): no CORS. The default (origin: true +
        // credentials) works too but logs an "Insecure CORS configuration" warning.
        cors: false,
    },
    authOptions: {
        // Default is 'cookie' (no vendure-auth-token header, session cookie instead).
        tokenMethod: 'bearer',
        superadminCredentials: { identifier: 'superadmin', password: 'superadmin' },
        requireVerification: false,
    },
    dbConnectionOptions: {
        type: 'sqljs',
        location: dbFile, // loaded at start if present, rewritten after every write when autoSave
        autoSave: true,
        // Create the schema on the first start only: a schema diff on every start costs seconds.
        synchronize: firstStart || process.env.VENDURE_SYNC === '1',
        logging: false,
    },
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    shippingOptions: {
        shippingCalculators: [defaultShippingCalculator],
        shippingEligibilityCheckers: [defaultShippingEligibilityChecker],
    },
    logger: new DefaultLogger({ level: logLevel }),
    plugins: [TallyWebhookPlugin],
};

const initialData = {
    defaultLanguage: LanguageCode.en,
    defaultZone: 'Americas',
    countries: [
        { name: 'United States of America', code: 'US', zone: 'Americas' },
        { name: 'Canada', code: 'CA', zone: 'Americas' },
        { name: 'United Kingdom', code: 'GB', zone: 'Europe' },
        { name: 'Germany', code: 'DE', zone: 'Europe' },
    ],
    taxRates: [{ name: 'Standard Tax', percentage: 0 }],
    shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
    paymentMethods: [
        {
            name: 'Dummy Payment', // -> code "dummy-payment"
            handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
        },
    ],
    collections: [],
};

bootstrap(config)
    .then(async app => {
        const countries = await app.get(TransactionalConnection).rawConnection.getRepository(Country).count();
        if (countries === 0) {
            await app.get(Populator).populateInitialData(initialData);
        }
        console.log(`vendure ready http://127.0.0.1:${port}` + (process.env.VENDURE_TIMING ? ` (${Date.now() - t0} ms, ${firstStart ? 'cold' : 'warm'})` : ''));
        const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
    })
    .catch(err => {
        console.error(err);
        process.exit(1);
    });
