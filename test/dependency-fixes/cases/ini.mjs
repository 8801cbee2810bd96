// ini 1.3.5 -> 1.3.6: CVE-2020-7788 (GHSA-qqgx-2p2h-9c37). A `[__proto__]`
// section wrote into Object.prototype. The fix is in callbacks nested in
// `decode` (closures made per call).
export default {
  package: 'ini', old: '1.3.5', new: '1.3.6',
  advisory: 'CVE-2020-7788, GHSA-qqgx-2p2h-9c37 (prototype pollution)',
  load: 'require',
  expect: { patched: ['ini/ini.js decode/<anonymous>', 'ini/ini.js decode/<anonymous>/<anonymous>'] },
  probe(ini) {
    const out = ini.parse('[__proto__]\nlpPolluted = yes\n[app]\nname = shop\n');
    const polluted = ({}).lpPolluted;
    delete Object.prototype.lpPolluted;
    return { polluted: polluted ?? null, app: out.app };
  },
};
