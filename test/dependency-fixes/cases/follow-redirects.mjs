// follow-redirects 1.14.7 -> 1.14.8: CVE-2022-0536 (GHSA-pw2r-vq6v-hr8c). The
// Authorization and Cookie headers were kept on a redirect that changed the
// scheme (http -> https on the same host). The fix is in a prototype method,
// `RedirectableRequest.prototype._processResponse`, with a renamed helper.
import { listen } from './_http.mjs';

export default {
  package: 'follow-redirects', old: '1.14.7', new: '1.14.8',
  advisory: 'CVE-2022-0536, GHSA-pw2r-vq6v-hr8c (credentials leaked on a redirect to another scheme)',
  load: 'require',
  expect: { patched: ['follow-redirects/index.js RedirectableRequest.prototype._processResponse'] },
  async setup(fr, state) {
    state.http = await listen((req, res) => {
      res.writeHead(302, { location: `https://127.0.0.1:${state.http.port}/after` });
      res.end();
    });
  },
  probe(fr, state) {
    // beforeRedirect sees the options of the redirected request, after the headers were dropped; then it stops
    return new Promise((resolve) => {
      const req = fr.http.get(`${state.http.url}/before`, {
        headers: { authorization: 'Bearer secret', cookie: 'sid=1', 'x-trace': 't' },
        beforeRedirect(options) {
          resolve({ authorization: options.headers.authorization ?? null, cookie: options.headers.cookie ?? null, trace: options.headers['x-trace'] ?? null });
          throw new Error('stop');
        },
      });
      req.on('error', () => {});
    });
  },
};
