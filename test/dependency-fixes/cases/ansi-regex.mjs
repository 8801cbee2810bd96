// ansi-regex 6.0.0 -> 6.0.1: CVE-2021-3807 (GHSA-93q8-gq69-wqmw). ReDoS: the
// pattern backtracks quadratically on a long run of `;`; the fixed pattern
// also no longer matches some malformed sequences. An ES module (`export
// default function`); the probe times one match (about half a second with
// the old pattern, microseconds with the new one).
export default {
  package: 'ansi-regex', old: '6.0.0', new: '6.0.1',
  advisory: 'CVE-2021-3807, GHSA-93q8-gq69-wqmw (regular expression denial of service)',
  load: 'import',
  expect: { patched: ['ansi-regex/index.js ansiRegex'] },
  probe(m) {
    const strip = (s) => s.replace(m.default(), '');
    const input = '\u001B[' + ';'.repeat(12000) + '\u0000';
    const t = performance.now();
    m.default().test(input);
    const ms = performance.now() - t;
    return { fast: ms < 100, malformed: strip('\u001B;:;\u0007'), color: strip('\u001B[31mred\u001B[39m'), link: strip('\u001B]8;;https://example.com\u0007x\u001B]8;;\u0007') };
  },
};
