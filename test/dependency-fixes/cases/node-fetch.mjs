// node-fetch 3.1.0 -> 3.1.1: CVE-2022-0235 (GHSA-r683-j2x4-v87g). Following a
// redirect to another host kept the Authorization and Cookie headers.
// Refused: node-fetch 3 is an ES module, and the fix adds an export to
// src/utils/is.js (`isDomainOrSubdomain`, which src/index.js imports) — an
// ES module's namespace is sealed — besides new module-level data made by
// calls and a changed top-level statement.
import { listen } from './_http.mjs';

export default {
  package: 'node-fetch', old: '3.1.0', new: '3.1.1',
  advisory: 'CVE-2022-0235, GHSA-r683-j2x4-v87g (credentials sent to another host on a redirect)',
  load: 'import',
  expect: {
    refuse: [
      // the new export a changed module imports
      { file: 'node_modules/node-fetch/src/utils/is.js', line: 68, rule: 'export' },
      // `const pipeline = promisify(Stream.pipeline)`, `const doBadDataWarn = deprecate(...)`: data made by calls
      { file: 'node_modules/node-fetch/src/body.js', line: 19, rule: 'new-data' },
      { file: 'node_modules/node-fetch/src/request.js', line: 34, rule: 'new-data' },
      // Object.defineProperties(Body.prototype, {...}) gains a property
      { file: 'node_modules/node-fetch/src/body.js', line: 175, rule: 'module-init' },
    ],
  },
  async setup(m, state) {
    state.target = await listen((req, res) => res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null })));
    // 127.0.0.1 -> localhost: another host
    state.origin = await listen((req, res) => { res.writeHead(302, { location: `http://localhost:${state.target.port}/` }); res.end(); });
  },
  async probe(m, state) {
    const r = await m.default(state.origin.url, { headers: { authorization: 'Bearer secret', cookie: 'sid=1' } });
    return await r.json();
  },
};
