// body-parser 1.20.2 -> 1.20.3: CVE-2024-45590 (GHSA-qwcr-r2fm-qrc7). The
// urlencoded parser parsed nested keys to any depth: a small body could
// cost a lot (denial of service). Refused: the fix adds a `depth` option,
// read in the middleware factory and used by the closures it returns — the
// middleware made at start-up does not capture a `depth` variable, and a
// closure cannot be given new variables.
import { listen, post } from './_http.mjs';

export default {
  package: 'body-parser', old: '1.20.2', new: '1.20.3',
  advisory: 'CVE-2024-45590, GHSA-qwcr-r2fm-qrc7 (denial of service through deep nesting)',
  load: 'require',
  expect: {
    refuse: [
      { file: 'node_modules/body-parser/lib/types/urlencoded.js', line: 125, rule: 'closure-captures' },
      { file: 'node_modules/body-parser/lib/types/urlencoded.js', line: 175, rule: 'closure-captures' },
    ],
  },
  async setup(bodyParser, state) {
    const parse = bodyParser.urlencoded({ extended: true });
    state.http = await listen((req, res) => parse(req, res, (err) => {
      res.statusCode = err ? err.status ?? 500 : 200;
      res.end(err ? err.message : JSON.stringify(req.body));
    }));
  },
  async probe(bodyParser, state) {
    const deep = await post(state.http.url, 'a' + '[b]'.repeat(40) + '=1', 'application/x-www-form-urlencoded');
    const flat = await post(state.http.url, 'a[b]=1&c=2', 'application/x-www-form-urlencoded');
    return { deep: deep.status === 200 ? 'parsed' : `${deep.status} ${deep.body}`, flat: flat.body };
  },
};
