// send 0.18.0 -> 0.19.0: CVE-2024-43799 (GHSA-m6fv-jmcg-4jfg). The redirect
// page for a directory put the (attacker-influenced) path into an HTML link:
// template injection / XSS. The fix is in `SendStream.prototype.redirect`, a
// prototype method, called by a server made at start-up.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, listen } from './_http.mjs';

export default {
  package: 'send', old: '0.18.0', new: '0.19.0',
  advisory: 'CVE-2024-43799, GHSA-m6fv-jmcg-4jfg (template injection in the redirect page)',
  load: 'require',
  expect: { patched: ['send/index.js redirect'] },
  async setup(send, state) {
    const root = join(state.dir, 'public');
    mkdirSync(join(root, 'docs'), { recursive: true });
    writeFileSync(join(root, 'docs', 'index.html'), 'docs');
    state.served = 0;
    state.http = await listen((req, res) => {
      state.served++;
      send(req, decodeURIComponent(new URL(req.url, 'http://x').pathname), { root }).pipe(res);
    });
  },
  async probe(send, state) {
    const r = await get(`${state.http.url}/docs`);
    return { status: r.status, location: r.location, body: r.body.replace(/\s+/g, ' ').match(/<body>(.*)<\/body>/)?.[1] ?? r.body, served: state.served > 0 };
  },
};
