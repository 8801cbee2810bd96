// cookie 0.6.0 -> 0.7.0: CVE-2024-47764 (GHSA-pxg6-pf52-xh8x). `serialize`
// accepted a name, path or domain with characters outside the cookie
// grammar (`;` injects attributes). The fix replaces one module-level
// regular expression by four new ones (new `var`s nothing reassigns: they go
// into the patch) and rewrites `parse` with two new helper functions.
export default {
  package: 'cookie', old: '0.6.0', new: '0.7.0',
  advisory: 'CVE-2024-47764, GHSA-pxg6-pf52-xh8x (out-of-bounds characters in name, path and domain)',
  load: 'require',
  expect: { patched: ['cookie/index.js parse', 'cookie/index.js serialize'] },
  probe(cookie) {
    const attempt = (f) => { try { return f(); } catch (e) { return `${e.name}: ${e.message}`; } };
    return {
      path: attempt(() => cookie.serialize('sid', 'abc', { path: '/;domain=evil.example' })),
      name: attempt(() => cookie.serialize('sid;x', 'abc')),
      domain: attempt(() => cookie.serialize('sid', 'abc', { domain: 'example.com;x=1' })),
      ok: cookie.serialize('sid', 'abc', { path: '/app', httpOnly: true }),
      parse: cookie.parse(' a = 1 ; b="2" ;c=3'),
    };
  },
};
