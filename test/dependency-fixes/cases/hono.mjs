// hono 4.6.4 -> 4.6.5: CVE-2024-48913. The csrf
// middleware refused a cross-origin form POST by its Content-Type; a request
// without one (`content-type || ""`) passed, and browsers send a simple POST
// without it (fetch with a Blob body, `<form enctype>` tricks). 4.6.5 reads a
// missing Content-Type as text/plain. The middleware is a closure made once
// at start-up (`app.use(csrf())`), in an ES module (dist/middleware/csrf) and
// its CommonJS twin (dist/cjs/...).
//
// Refused as a whole release: 4.6.5 also gives the powered-by middleware an
// option, a parameter the running `poweredBy` does not forward and a variable
// the closures it made do not capture. The csrf fix alone, built from a copy
// of 4.6.4 with 4.6.5's two csrf files (the same version), is patched:
// test/dependency-fixes/hono.test.ts.
import { request } from 'node:http';
import { listen } from './_http.mjs';

/** A request as a browser's forged cross-site POST sends it: Origin set, no Content-Type. */
export function send(url, { origin, type, body = 'to=mallory&amount=1000' }) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-length': Buffer.byteLength(body) };
    if (origin !== undefined) headers.origin = origin;
    if (type !== undefined) headers['content-type'] = type;
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export default {
  package: 'hono', old: '4.6.4', new: '4.6.5',
  advisory: 'CVE-2024-48913 (csrf middleware bypass by a request without Content-Type)',
  load: 'import',
  expect: {
    refuse: [
      { file: 'node_modules/hono/dist/middleware/powered-by/index.js', line: 2, rule: 'signature' },
      { file: 'node_modules/hono/dist/middleware/powered-by/index.js', line: 5, rule: 'closure-captures' },
      { file: 'node_modules/hono/dist/cjs/middleware/powered-by/index.js', line: 24, rule: 'signature' },
      { file: 'node_modules/hono/dist/cjs/middleware/powered-by/index.js', line: 27, rule: 'closure-captures' },
    ],
  },
  async setup(hono, state, ctx) {
    const { csrf } = await ctx.load('hono/csrf');
    // the application: a Hono app with the csrf middleware, made once, served by node:http
    const app = new hono.Hono();
    app.use(csrf());
    state.transfers = 0;
    app.post('/transfer', (c) => c.text(`transferred (${++state.transfers})`));
    state.http = await listen(async (req, res) => {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      // the body as bytes: a string would make Request add a Content-Type of its own
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(Buffer.concat(chunks));
      const r = await app.fetch(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }));
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(await r.text());
    });
  },
  async probe(hono, state) {
    const url = `${state.http.url}/transfer`;
    const forged = await send(url, { origin: 'https://evil.example' });
    const form = await send(url, { origin: 'https://evil.example', type: 'application/x-www-form-urlencoded' });
    const sameOrigin = await send(url, { origin: state.http.url });
    return { forged: forged.status, form: form.status, sameOrigin: sameOrigin.status };
  },
};
