'use strict';
// Writes dist/_headers: the security headers Cloudflare's static assets (and wrangler dev)
// send with every file of the SPA. The Content-Security-Policy lets scripts run only from
// this origin, plus Trunk's one inline loader by its SHA-256 (it changes with each build,
// hence this script), wasm compiled by the page, and no framing by other sites.
//   node scripts/spa-headers.js dist
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const dist = process.argv[2] || 'dist';
const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
const inline = [...html.matchAll(/<script type=["']?module["']?>([\s\S]*?)<\/script>/g)].map(m => m[1]);
if (inline.length !== 1) {
    console.error(`expected Trunk's one inline loader script in ${dist}/index.html, found ${inline.length}`);
    process.exit(1);
}
const hash = crypto.createHash('sha256').update(inline[0], 'utf8').digest('base64');
const csp = [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'`,
    // Leptos sets style attributes (progress bars, chart sizes).
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
].join('; ');
const headers = `/*
  Content-Security-Policy: ${csp}
  X-Content-Type-Options: nosniff
  X-Frame-Options: DENY
  Referrer-Policy: same-origin
`;
fs.writeFileSync(path.join(dist, '_headers'), headers);
