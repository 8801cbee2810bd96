// marked 4.0.9 -> 4.0.10: CVE-2022-21680 (GHSA-rrrm-qjm4-v8hf) and
// CVE-2022-21681 (GHSA-5v2h-r2cx-5xgj). ReDoS in the block `def` and inline
// `reflink`/`nolink` rules. Refused: the rules are objects of regular
// expressions that lib/marked.cjs builds when it loads, by calling `edit()`
// on other rules — data computed at load (and a changed top-level
// statement), in the CommonJS bundle and the ES module bundle alike (both are
// `exports` targets).
export default {
  package: 'marked', old: '4.0.9', new: '4.0.10',
  advisory: 'CVE-2022-21680, CVE-2022-21681, GHSA-rrrm-qjm4-v8hf, GHSA-5v2h-r2cx-5xgj (regular expression denial of service)',
  load: 'require',
  expect: {
    refuse: [
      // the rule tables, computed by calls when the module loads
      { file: 'node_modules/marked/lib/marked.cjs', line: 1184, rule: 'module-data' },
      { file: 'node_modules/marked/lib/marked.cjs', line: 1264, rule: 'module-data' },
      // top-level statements that edit them
      { file: 'node_modules/marked/lib/marked.cjs', line: 1210, rule: 'module-init' },
      { file: 'node_modules/marked/lib/marked.cjs', line: 1313, rule: 'module-init' },
      { file: 'node_modules/marked/lib/marked.cjs', line: 1314, rule: 'module-init' },
      // the same in the ES module bundle
      { file: 'node_modules/marked/lib/marked.esm.js', line: 1056, rule: 'module-data' },
      { file: 'node_modules/marked/lib/marked.esm.js', line: 1200, rule: 'module-data' },
      { file: 'node_modules/marked/lib/marked.esm.js', line: 1083, rule: 'module-init' },
      { file: 'node_modules/marked/lib/marked.esm.js', line: 1277, rule: 'module-init' },
      { file: 'node_modules/marked/lib/marked.esm.js', line: 1282, rule: 'module-init' },
    ],
  },
  probe(m) {
    const t = performance.now();
    m.marked.parse(`[x]:${' '.repeat(650)}x ${' '.repeat(650)} x`);
    const ms = performance.now() - t;
    return { fast: ms < 100, html: m.marked.parse('# Title\n\n[a\\]b]: /u\n\n[a\\]b]') };
  },
};
