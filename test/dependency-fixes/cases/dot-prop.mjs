// dot-prop 5.1.0 -> 5.1.1: CVE-2020-8116 (GHSA-ff7x-qrg7-qggm). A path
// through `__proto__` polluted Object.prototype. The fix adds a constant
// list and an arrow helper (new declarations of the patch) and changes
// three functions.
export default {
  package: 'dot-prop', old: '5.1.0', new: '5.1.1',
  advisory: 'CVE-2020-8116, GHSA-ff7x-qrg7-qggm (prototype pollution)',
  load: 'require',
  expect: { patched: ['dot-prop/index.js getPathSegments', 'dot-prop/index.js module.exports.get', 'dot-prop/index.js module.exports.has'] },
  setup(dotProp, state) {
    state.config = { db: { host: 'localhost' } };
  },
  probe(dotProp, state) {
    dotProp.set({}, '__proto__.lpPolluted', 'yes');
    const polluted = ({}).lpPolluted;
    delete Object.prototype.lpPolluted;
    return { polluted: polluted ?? null, has: dotProp.has({}, '__proto__.toString'), host: dotProp.get(state.config, 'db.host') };
  },
};
