// minimist 1.2.5 -> 1.2.6: CVE-2021-44906 (GHSA-xvch-5gv4-984h). A dotted
// option walked `constructor.prototype` and polluted Function.prototype. The
// fix is in `setKey`, a closure made by every call of the exported function,
// and a new helper function.
export default {
  package: 'minimist', old: '1.2.5', new: '1.2.6',
  advisory: 'CVE-2021-44906, GHSA-xvch-5gv4-984h (prototype pollution)',
  load: 'require',
  expect: { patched: ['minimist/index.js module.exports/setKey'] },
  probe(minimist) {
    const argv = minimist(['--_.constructor.constructor.prototype.lpPolluted', 'yes', '--port', '8080']);
    const polluted = (function () {}).lpPolluted;
    delete Function.prototype.lpPolluted;
    return { polluted: polluted ?? null, port: argv.port };
  },
};
