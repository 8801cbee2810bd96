// glob-parent 5.1.1 -> 5.1.2: CVE-2020-28469 (GHSA-ww39-953v-wcq6). ReDoS in
// `enclosure`, a module-level regular expression: the fix changes the
// constant, not the function that reads it. The patch defines the new value
// and replaces `globParent` (unchanged) to read it. The probe times one
// call: the old expression backtracks for about half a second on this input (cubic), the new
// one answers in microseconds; the result is the same.
export default {
  package: 'glob-parent', old: '5.1.1', new: '5.1.2',
  advisory: 'CVE-2020-28469, GHSA-ww39-953v-wcq6 (regular expression denial of service)',
  load: 'require',
  expect: { patched: ['glob-parent/index.js globParent'], constants: ['glob-parent/index.js enclosure'] },
  probe(globParent) {
    const input = '{' + '/'.repeat(1100) + 'x';
    const t = performance.now();
    const result = globParent(input);
    const ms = performance.now() - t;
    return { fast: ms < 100, result: result.length, plain: globParent('path/to/*.js') };
  },
};
