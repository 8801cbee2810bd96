// express 4.19.1 -> 4.19.2: CVE-2024-29041 (GHSA-rv95-896h-c2vc). res.location
// (and res.redirect) encoded the whole URL, which turned `\` into `%5C` and
// let a crafted URL pass an allow-list check and redirect elsewhere (open
// redirect). The fix adds a module-level regular expression (a new `var`)
// and drops a `require('url').parse` binding nothing uses any more.
import { get, listen } from './_http.mjs';

export default {
  package: 'express', old: '4.19.1', new: '4.19.2',
  advisory: 'CVE-2024-29041, GHSA-rv95-896h-c2vc (open redirect in res.location)',
  load: 'require',
  expect: { patched: ['express/lib/response.js location'] },
  async setup(express, state) {
    const app = express();
    app.get('/go', (req, res) => res.redirect(String(req.query.to)));
    state.http = await listen(app);
  },
  async probe(express, state) {
    const to = (u) => get(`${state.http.url}/go?to=${encodeURIComponent(u)}`).then((r) => r.location);
    return {
      // a browser reads `\` as `/`: the old code's `%5C` made apple.com the host
      protocolRelative: await to('//google.com\\@apple.com'),
      backslash: await to('http://google.com\\@apple.com'),
      plain: await to('https://example.com/a b'),
      local: await to('/home?x=1'),
    };
  },
};
