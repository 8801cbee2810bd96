// decode-uri-component 0.2.0 -> 0.2.1: CVE-2022-38900 (GHSA-w573-4hg7-7wgq).
// Some malformed input made `decode` throw a TypeError from inside its error
// handling (a denial of service for query-string parsers).
export default {
  package: 'decode-uri-component', old: '0.2.0', new: '0.2.1',
  advisory: 'CVE-2022-38900, GHSA-w573-4hg7-7wgq (denial of service)',
  load: 'require',
  expect: { patched: ['decode-uri-component/index.js decodeComponents', 'decode-uri-component/index.js decode'] },
  probe(decode) {
    const attempt = (s) => { try { return decode(s); } catch (e) { return `${e.name}: ${e.message}`; } };
    return { bad: attempt('%+'), mixed: attempt('%ea%ba%5a%ba'), good: attempt('a%20b%C3%A9') };
  },
};
