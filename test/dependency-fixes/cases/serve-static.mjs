// serve-static 1.15.0 -> 1.16.0: CVE-2024-43800 (GHSA-cm22-4g7w-348p). The
// directory redirect page put the URL into an HTML link (template
// injection / XSS). The fix is in `redirect`, a closure the middleware
// factory made once at start-up: every request of the running middleware
// goes through it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, listen } from './_http.mjs';

export default {
  package: 'serve-static', old: '1.15.0', new: '1.16.0',
  advisory: 'CVE-2024-43800, GHSA-cm22-4g7w-348p (template injection in the redirect page)',
  load: 'require',
  expect: { patched: ['serve-static/index.js createRedirectDirectoryListener/redirect'] },
  async setup(serveStatic, state) {
    const root = join(state.dir, 'static');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'assets', 'index.html'), 'assets');
    // the middleware, made once, like app.use(serveStatic(root)) at start-up
    const middleware = serveStatic(root);
    state.http = await listen((req, res) => middleware(req, res, () => { res.statusCode = 404; res.end('next'); }));
  },
  async probe(serveStatic, state) {
    const r = await get(`${state.http.url}/assets`);
    return { status: r.status, location: r.location, body: r.body.replace(/\s+/g, ' ').match(/<body>(.*)<\/body>/)?.[1] ?? r.body };
  },
};
