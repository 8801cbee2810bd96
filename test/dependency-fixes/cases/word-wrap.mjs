// word-wrap 1.2.3 -> 1.2.4: CVE-2023-26115 (GHSA-j8xg-fqg3-53r7). ReDoS in the
// trailing-whitespace regular expression; the release also fixed the default
// indent (none, not two spaces). Two new helper functions.
export default {
  package: 'word-wrap', old: '1.2.3', new: '1.2.4',
  advisory: 'CVE-2023-26115, GHSA-j8xg-fqg3-53r7 (regular expression denial of service)',
  load: 'require',
  expect: { patched: ['word-wrap/index.js module.exports'] },
  probe(wrap) {
    return { wrapped: wrap('the quick brown fox jumps', { width: 10 }), trimmed: wrap('a   \t\nb  ', { width: 20, trim: true, indent: '' }) };
  },
};
