// moment 2.29.3 -> 2.29.4: CVE-2022-31129 (GHSA-wc69-rhjr-hc9g). ReDoS: the
// RFC 2822 preprocessing took quadratic time on many `(`. moment.js is a UMD
// bundle: every function is inside the factory the wrapper calls once at
// load; the fix is in `preprocessRFC2822` there. The factory's own code
// differs only by the version string (`hooks.version = '2.29.4'`): left as
// it is — `moment.version` stays '2.29.3', and `livepatch status` says the
// process behaves as 2.29.4. The package's other copies (dist/, min/, src/)
// are left out. The probe times one parse (half a second with the old
// code, microseconds with the new).
export default {
  package: 'moment', old: '2.29.3', new: '2.29.4',
  advisory: 'CVE-2022-31129, GHSA-wc69-rhjr-hc9g (regular expression denial of service)',
  load: 'require',
  expect: {
    patched: ['moment/moment.js <anonymous>/preprocessRFC2822'],
    leftOut: ['node_modules/moment/dist/moment.js', 'node_modules/moment/min/moment.min.js', 'node_modules/moment/src/lib/create/from-string.js'],
  },
  setup(moment, state) {
    state.launch = moment.utc('2015-10-21T16:29:00Z');
  },
  probe(moment, state) {
    const input = '('.repeat(24000);
    const t = performance.now();
    const bad = moment(input, moment.RFC_2822).isValid();
    const ms = performance.now() - t;
    const good = moment.utc('Wed, 21 Oct 2015 16:29:00 +0000', moment.RFC_2822, true);
    return { fast: ms < 100, bad, good: good.toISOString(), launch: state.launch.toISOString() };
  },
};
