// Scenarios of tools/testing/selftests/livepatch/test-livepatch.sh, with the
// selftests' expected dmesg compared line for line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../support/sim.ts';
import type { PatchDef } from '../../src/core/index.ts';

const LP = 'test_klp_livepatch';
const REPLACE = 'test_klp_atomic_replace';

function world() {
  const w = new SimWorld({ debug: true });
  const cmdline = w.vmlinux.define('cmdline_proc_show', () => 'BOOT_IMAGE=/vmlinuz');
  const meminfo = w.vmlinux.define('meminfo_proc_show', () => 'MemTotal: 1 kB');
  const reader = w.spawn('cat');
  return { w, cmdline, meminfo, reader };
}

const livepatch = (): PatchDef => ({
  name: LP,
  objects: [
    { name: null, funcs: [{ oldName: 'cmdline_proc_show', newFunc: () => `${LP}: this has been live patched` }] },
  ],
});
const atomicReplace = (replace: boolean): PatchDef => ({
  name: REPLACE,
  replace,
  objects: [
    { name: null, funcs: [{ oldName: 'meminfo_proc_show', newFunc: () => `${REPLACE}: this has been live patched` }] },
  ],
});

const lines = (s: string) => s.split('\n');

test('selftest test-livepatch: basic function patching', () => {
  const { w, cmdline, reader } = world();
  w.loadPatch(livepatch());
  assert.equal(reader.call(cmdline), `${LP}: this has been live patched`);
  w.disablePatch(LP);
  w.unloadPatch(LP);
  assert.equal(reader.call(cmdline), 'BOOT_IMAGE=/vmlinuz');
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
livepatch: '${LP}': patching complete
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-livepatch: multiple livepatches', () => {
  const { w, cmdline, meminfo, reader } = world();
  const grep = () => {
    for (const slot of [cmdline, meminfo]) {
      const out = String(reader.call(slot));
      if (out.includes('live patched')) w.lp.printk(out);
    }
  };
  w.loadPatch(livepatch());
  grep();
  w.loadPatch(atomicReplace(false), { args: 'replace=0' });
  grep();
  w.disablePatch(REPLACE);
  w.unloadPatch(REPLACE);
  grep();
  w.disablePatch(LP);
  w.unloadPatch(LP);
  grep();
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
livepatch: '${LP}': patching complete
${LP}: this has been live patched
% modprobe ${REPLACE} replace=0
livepatch: enabling patch '${REPLACE}'
livepatch: '${REPLACE}': initializing patching transition
livepatch: '${REPLACE}': starting patching transition
livepatch: '${REPLACE}': completing patching transition
livepatch: '${REPLACE}': patching complete
${LP}: this has been live patched
${REPLACE}: this has been live patched
% echo 0 > /sys/kernel/livepatch/${REPLACE}/enabled
livepatch: '${REPLACE}': initializing unpatching transition
livepatch: '${REPLACE}': starting unpatching transition
livepatch: '${REPLACE}': completing unpatching transition
livepatch: '${REPLACE}': unpatching complete
% rmmod ${REPLACE}
${LP}: this has been live patched
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-livepatch: atomic replace livepatch', () => {
  const { w, cmdline, meminfo, reader } = world();
  const grep = () => {
    for (const slot of [cmdline, meminfo]) {
      const out = String(reader.call(slot));
      if (out.includes('live patched')) w.lp.printk(out);
    }
  };
  w.loadPatch(livepatch());
  grep();
  w.loadPatch(atomicReplace(true), { args: 'replace=1' });
  grep();
  w.unloadPatch(LP);
  grep(); // the replaced patch is gone: its module can go without "echo 0"
  w.disablePatch(REPLACE);
  w.unloadPatch(REPLACE);
  grep();
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
livepatch: '${LP}': patching complete
${LP}: this has been live patched
% modprobe ${REPLACE} replace=1
livepatch: enabling patch '${REPLACE}'
livepatch: '${REPLACE}': initializing patching transition
livepatch: '${REPLACE}': starting patching transition
livepatch: '${REPLACE}': completing patching transition
livepatch: '${REPLACE}': patching complete
${REPLACE}: this has been live patched
% rmmod ${LP}
${REPLACE}: this has been live patched
% echo 0 > /sys/kernel/livepatch/${REPLACE}/enabled
livepatch: '${REPLACE}': initializing unpatching transition
livepatch: '${REPLACE}': starting unpatching transition
livepatch: '${REPLACE}': completing unpatching transition
livepatch: '${REPLACE}': unpatching complete
% rmmod ${REPLACE}`),
  );
  // Nothing left behind.
  assert.deepEqual(w.lp.patchedSlots(), []);
  assert.equal(w.clock.pending, 0);
});

test('the dmesg formatter prints the kernel timestamp', () => {
  const { w } = world();
  w.clock.advance(5244.332);
  w.loadPatch(livepatch());
  assert.match(w.lp.log.dmesg().split('\n')[1]!, /^\[ {4}5\.244332\] livepatch: enabling patch 'test_klp_livepatch'$/);
});
