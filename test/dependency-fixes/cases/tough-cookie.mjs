// tough-cookie 4.1.2 -> 4.1.3: CVE-2023-26136 (GHSA-72xf-g2v4-qvf3). The
// memory store indexed cookies in plain objects, so a cookie for the domain
// `__proto__` polluted Object.prototype. Refused: the fix makes the index a
// null-prototype object in the constructor (`this.idx = Object.create(null)`),
// and every store made before the patch — the application's cookie jar —
// would keep its old, pollutable index.
export default {
  package: 'tough-cookie', old: '4.1.2', new: '4.1.3',
  advisory: 'CVE-2023-26136, GHSA-72xf-g2v4-qvf3 (prototype pollution)',
  load: 'require',
  expect: { refuse: [{ file: 'node_modules/tough-cookie/lib/memstore.js', line: 42, rule: 'instance-state' }] },
  setup(tough, state) {
    state.jar = new tough.CookieJar(undefined, { rejectPublicSuffixes: false });
  },
  async probe(tough, state) {
    await state.jar.setCookie('lpPolluted=yes; Domain=__proto__; Path=/lp', 'https://__proto__/admin', { loose: true }).catch(() => null);
    const polluted = ({})['/lp'] !== undefined;
    delete Object.prototype['/lp'];
    return { polluted, nullIndex: Object.getPrototypeOf(new tough.MemoryCookieStore().idx) === null };
  },
};
