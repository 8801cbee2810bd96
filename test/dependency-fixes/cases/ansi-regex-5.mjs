// ansi-regex 5.0.0 -> 5.0.1: CVE-2021-3807 (GHSA-93q8-gq69-wqmw), the same
// fix as 6.0.1 on the CommonJS line. The exported function is an arrow whose
// destructured parameter has defaults (`({onlyFirst = false} = {}) => ...`):
// the loader moves them into the body to arm it (they hold no function and
// read nothing the body declares), so it is patched like any other.
export default {
  package: 'ansi-regex', old: '5.0.0', new: '5.0.1',
  advisory: 'CVE-2021-3807, GHSA-93q8-gq69-wqmw (regular expression denial of service)',
  load: 'require',
  expect: { patched: ['ansi-regex/index.js module.exports'] },
  probe(ansiRegex) {
    const t = performance.now();
    ansiRegex().test('\u001B[' + ';'.repeat(8000) + '\u0000');
    const ms = performance.now() - t;
    return { fast: ms < 100, malformed: '\u001B;:;\u0007'.replace(ansiRegex(), '') };
  },
};
