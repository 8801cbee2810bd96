// deep-extend 0.5.0 -> 0.5.1: CVE-2018-3750 (GHSA-hr2v-3952-633q). Merging an
// object with a `__proto__` key (from JSON.parse) wrote into
// Object.prototype. The fix is in a callback nested in the exported
// function, and a new helper.
export default {
  package: 'deep-extend', old: '0.5.0', new: '0.5.1',
  advisory: 'CVE-2018-3750, GHSA-hr2v-3952-633q (prototype pollution)',
  load: 'require',
  expect: { patched: ['deep-extend/lib/deep-extend.js cloneSpecificValue', 'deep-extend/lib/deep-extend.js module.exports/<anonymous>/<anonymous>'] },
  setup(deepExtend, state) {
    state.defaults = { server: { port: 80 } };
  },
  probe(deepExtend, state) {
    const merged = deepExtend({}, state.defaults, JSON.parse('{"__proto__": {"lpPolluted": "yes"}, "server": {"host": "h"}}'));
    const polluted = ({}).lpPolluted;
    delete Object.prototype.lpPolluted;
    return { polluted: polluted ?? null, merged };
  },
};
