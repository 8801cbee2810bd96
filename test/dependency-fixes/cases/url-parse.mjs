// url-parse 1.5.9 -> 1.5.10: a follow-up of CVE-2022-0686 (GHSA-hgjh-723h-mx2j,
// fixed in 1.5.8: a trailing `:` with no port made `hostname` and `href`
// disagree, an authorization bypass). 1.5.10 finishes it for a host that
// ends like a port (`example.com:80:`, a `set('host', ...)`), which `href`
// still rewrote into another URL; it has no advisory of its own. The fix renames
// one module-level regular expression and adds another (in a `var` list with
// `require`s), and changes `trimLeft`, `set` and `toString` (methods on
// Url.prototype).
export default {
  package: 'url-parse', old: '1.5.9', new: '1.5.10',
  advisory: 'follow-up of CVE-2022-0686, GHSA-hgjh-723h-mx2j (host and href disagree on a port-like suffix)',
  load: 'require',
  expect: { patched: ['url-parse/index.js trimLeft', 'url-parse/index.js set', 'url-parse/index.js toString'] },
  setup(Url, state) {
    // an object made before the patch; its methods are the prototype's
    state.base = new Url('https://example.com/app/');
  },
  probe(Url, state) {
    const u = new Url('http://example.com:80:');
    const moved = new Url('https://example.com/');
    moved.set('host', 'evil.com:8080:');
    const kept = new Url(state.base.href);
    kept.set('hostname', 'example.com:22');
    return { href: u.href, hostname: u.hostname, moved: moved.href, kept: kept.href, base: state.base.toString() };
  },
};
