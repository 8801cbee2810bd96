// Scenarios of tools/testing/selftests/livepatch/test-callbacks.sh (R9, R10),
// with the selftests' expected dmesg compared line for line, plus the
// callbacks corner case of atomic replace from seed 002.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld, demoCallbacks, type SimModule, type SimTask } from '../support/sim.ts';
import type { PatchDef } from '../../src/core/index.ts';

const LP = 'test_klp_callbacks_demo';
const LP2 = 'test_klp_callbacks_demo2';
const MOD = 'test_klp_callbacks_mod';
const BUSY = 'test_klp_callbacks_busy';

interface Ctx {
  w: SimWorld;
  mod: SimModule;
  busy: SimModule;
  prePatchRet: number;
  worker: SimTask | null;
}

function setup(): Ctx {
  const w = new SimWorld({ debug: true });
  const mod = w.module(MOD);
  mod.define('test_klp_callbacks_mod_init');
  const busy = w.module(BUSY);
  busy.define('busymod_work_func', () => 'work');
  return { w, mod, busy, prePatchRet: 0, worker: null };
}

function demo(c: Ctx): PatchDef {
  const callbacks = demoCallbacks(c.w.lp, LP, { prePatchRet: () => c.prePatchRet });
  return {
    name: LP,
    objects: [
      { name: null, funcs: [], callbacks },
      { name: MOD, funcs: [], callbacks },
      { name: BUSY, funcs: [{ oldName: 'busymod_work_func', newFunc: () => 'patched work' }], callbacks },
    ],
  };
}

function demo2(c: Ctx, replace: boolean): PatchDef {
  return { name: LP2, replace, objects: [{ name: null, funcs: [], callbacks: demoCallbacks(c.w.lp, LP2) }] };
}

/** Load the busy module; its worker sleeps in busymod_work_func for `secs`. */
function loadBusy(c: Ctx, secs: number): void {
  c.w.cmd(`modprobe ${BUSY} sleep_secs=${secs}`);
  c.w.load(c.busy, { log: false });
  const worker = c.w.spawn('kworker/0:1');
  worker.enter(c.busy.slot('busymod_work_func'));
  c.w.lp.printk(`${BUSY}: busymod_work_func, sleeping ${secs} seconds ...`, 6);
  c.worker = worker;
  if (secs === 0) finishWork(c);
}

function finishWork(c: Ctx): void {
  c.worker!.leave();
  c.w.lp.printk(`${BUSY}: busymod_work_func exit`, 6);
  c.w.exit(c.worker!);
}

const lines = (s: string) => s.split('\n');

test('selftest test-callbacks: target module before livepatch (R9.2)', () => {
  const c = setup();
  c.w.load(c.mod);
  c.w.loadPatch(demo(c));
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  c.w.unload(c.mod);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${MOD}
${MOD}: ${MOD}_init
% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
${LP}: post_patch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': patching complete
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
${LP}: pre_unpatch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': unpatching complete
% rmmod ${LP}
% rmmod ${MOD}
${MOD}: ${MOD}_exit`),
  );
});

test('selftest test-callbacks: module_coming notifier (R10.3)', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  c.w.load(c.mod);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  c.w.unload(c.mod);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% modprobe ${MOD}
livepatch: applying patch '${LP}' to loading module '${MOD}'
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${LP}: post_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${MOD}: ${MOD}_init
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
${LP}: pre_unpatch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': unpatching complete
% rmmod ${LP}
% rmmod ${MOD}
${MOD}: ${MOD}_exit`),
  );
});

test('selftest test-callbacks: module_going notifier (R10.4)', () => {
  const c = setup();
  c.w.load(c.mod);
  c.w.loadPatch(demo(c));
  c.w.unload(c.mod);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${MOD}
${MOD}: ${MOD}_init
% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
${LP}: post_patch_callback: ${MOD} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': patching complete
% rmmod ${MOD}
${MOD}: ${MOD}_exit
${LP}: pre_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
livepatch: reverting patch '${LP}' on unloading module '${MOD}'
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-callbacks: module_coming and module_going notifiers', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  c.w.load(c.mod);
  c.w.unload(c.mod);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% modprobe ${MOD}
livepatch: applying patch '${LP}' to loading module '${MOD}'
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${LP}: post_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${MOD}: ${MOD}_init
% rmmod ${MOD}
${MOD}: ${MOD}_exit
${LP}: pre_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
livepatch: reverting patch '${LP}' on unloading module '${MOD}'
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-callbacks: target module not present (R6.3)', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  assert.equal(c.w.lp.sysfs.read(`${LP}/${MOD}/patched`), '0\n');
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-callbacks: pre-patch callback -ENODEV (R9.3)', () => {
  const c = setup();
  c.w.load(c.mod);
  c.prePatchRet = -19;
  assert.throws(() => c.w.loadPatch(demo(c), { args: 'pre_patch_ret=-19' }), { errno: -19, code: 'ENODEV' });
  c.w.unload(c.mod);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${MOD}
${MOD}: ${MOD}_init
% modprobe ${LP} pre_patch_ret=-19
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
test_klp_callbacks_demo: pre_patch_callback: vmlinux
livepatch: pre-patch callback failed for object 'vmlinux'
livepatch: failed to enable patch '${LP}'
livepatch: '${LP}': canceling patching transition, going to unpatch
livepatch: '${LP}': completing unpatching transition
livepatch: '${LP}': unpatching complete
modprobe: ERROR: could not insert '${LP}': No such device
% rmmod ${MOD}
${MOD}: ${MOD}_exit`),
  );
  assert.deepEqual(c.w.lp.sysfs.list(''), []);
});

test('selftest test-callbacks: module_coming + pre-patch callback -ENODEV (R10.3)', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  c.w.cmd(`echo -19 > /sys/module/${LP}/parameters/pre_patch_ret`);
  c.prePatchRet = -19;
  assert.throws(() => c.w.load(c.mod), { errno: -19 });
  c.prePatchRet = 0;
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% echo -19 > /sys/module/${LP}/parameters/pre_patch_ret
% modprobe ${MOD}
livepatch: applying patch '${LP}' to loading module '${MOD}'
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
livepatch: pre-patch callback failed for object '${MOD}'
livepatch: patch '${LP}' failed for module '${MOD}', refusing to load module '${MOD}'
modprobe: ERROR: could not insert '${MOD}': No such device
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
livepatch: '${LP}': unpatching complete
% rmmod ${LP}`),
  );
});

test('selftest test-callbacks: multiple target modules', () => {
  const c = setup();
  loadBusy(c, 0);
  c.w.tick(5000);
  c.w.loadPatch(demo(c));
  c.w.load(c.mod);
  c.w.unload(c.mod);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  c.w.unload(c.busy);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${BUSY} sleep_secs=0
${BUSY}: ${BUSY}_init
${BUSY}: busymod_work_func, sleeping 0 seconds ...
${BUSY}: busymod_work_func exit
% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
${LP}: pre_patch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
${LP}: post_patch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': patching complete
% modprobe ${MOD}
livepatch: applying patch '${LP}' to loading module '${MOD}'
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${LP}: post_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${MOD}: ${MOD}_init
% rmmod ${MOD}
${MOD}: ${MOD}_exit
${LP}: pre_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
livepatch: reverting patch '${LP}' on unloading module '${MOD}'
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
${LP}: pre_unpatch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
${LP}: post_unpatch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': unpatching complete
% rmmod ${LP}
% rmmod ${BUSY}
${BUSY}: ${BUSY}_exit`),
  );
});

test('selftest test-callbacks: busy target module (R10.5, R5.13)', () => {
  const c = setup();
  loadBusy(c, 10);
  c.w.loadPatch(demo(c), { wait: false });
  // The worker sleeps in the to-be-patched busymod_work_func: the transition stalls.
  c.w.tick(5000);
  assert.equal(c.w.lp.sysfs.read(`${LP}/transition`), '1\n');
  c.w.load(c.mod);
  c.w.unload(c.mod);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP);
  c.w.cmd(`rmmod ${BUSY}`);
  finishWork(c);
  c.w.unload(c.busy, { log: false });
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${BUSY} sleep_secs=10
${BUSY}: ${BUSY}_init
${BUSY}: busymod_work_func, sleeping 10 seconds ...
% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
${LP}: pre_patch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': starting patching transition
% modprobe ${MOD}
livepatch: applying patch '${LP}' to loading module '${MOD}'
${LP}: pre_patch_callback: ${MOD} -> [MODULE_STATE_COMING] Full formed, running module_init
${MOD}: ${MOD}_init
% rmmod ${MOD}
${MOD}: ${MOD}_exit
livepatch: reverting patch '${LP}' on unloading module '${MOD}'
${LP}: post_unpatch_callback: ${MOD} -> [MODULE_STATE_GOING] Going away
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': reversing transition from patching to unpatching
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
${LP}: post_unpatch_callback: ${BUSY} -> [MODULE_STATE_LIVE] Normal state
livepatch: '${LP}': unpatching complete
% rmmod ${LP}
% rmmod ${BUSY}
${BUSY}: busymod_work_func exit
${BUSY}: ${BUSY}_exit`),
  );
});

test('selftest test-callbacks: multiple livepatches', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  c.w.loadPatch(demo2(c, false));
  c.w.disablePatch(LP2);
  c.w.disablePatch(LP);
  c.w.unloadPatch(LP2);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% modprobe ${LP2}
livepatch: enabling patch '${LP2}'
livepatch: '${LP2}': initializing patching transition
${LP2}: pre_patch_callback: vmlinux
livepatch: '${LP2}': starting patching transition
livepatch: '${LP2}': completing patching transition
${LP2}: post_patch_callback: vmlinux
livepatch: '${LP2}': patching complete
% echo 0 > /sys/kernel/livepatch/${LP2}/enabled
livepatch: '${LP2}': initializing unpatching transition
${LP2}: pre_unpatch_callback: vmlinux
livepatch: '${LP2}': starting unpatching transition
livepatch: '${LP2}': completing unpatching transition
${LP2}: post_unpatch_callback: vmlinux
livepatch: '${LP2}': unpatching complete
% echo 0 > /sys/kernel/livepatch/${LP}/enabled
livepatch: '${LP}': initializing unpatching transition
${LP}: pre_unpatch_callback: vmlinux
livepatch: '${LP}': starting unpatching transition
livepatch: '${LP}': completing unpatching transition
${LP}: post_unpatch_callback: vmlinux
livepatch: '${LP}': unpatching complete
% rmmod ${LP2}
% rmmod ${LP}`),
  );
});

test('selftest test-callbacks: atomic replace — replaced callbacks never run, the cumulative patch keeps its callback-only object (seed 002, R8.3)', () => {
  const c = setup();
  c.w.loadPatch(demo(c));
  c.w.loadPatch(demo2(c, true), { args: 'replace=1' });
  // The vmlinux object of the replace patch has no funcs, only callbacks:
  // it must survive nop discarding (the bug of seed 002).
  assert.deepEqual(c.w.lp.sysfs.list(LP2), ['enabled', 'transition', 'force', 'replace', 'stack_order', 'vmlinux']);
  c.w.disablePatch(LP2);
  c.w.unloadPatch(LP2);
  c.w.unloadPatch(LP);
  assert.deepEqual(
    c.w.lines(),
    lines(`% modprobe ${LP}
livepatch: enabling patch '${LP}'
livepatch: '${LP}': initializing patching transition
${LP}: pre_patch_callback: vmlinux
livepatch: '${LP}': starting patching transition
livepatch: '${LP}': completing patching transition
${LP}: post_patch_callback: vmlinux
livepatch: '${LP}': patching complete
% modprobe ${LP2} replace=1
livepatch: enabling patch '${LP2}'
livepatch: '${LP2}': initializing patching transition
${LP2}: pre_patch_callback: vmlinux
livepatch: '${LP2}': starting patching transition
livepatch: '${LP2}': completing patching transition
${LP2}: post_patch_callback: vmlinux
livepatch: '${LP2}': patching complete
% echo 0 > /sys/kernel/livepatch/${LP2}/enabled
livepatch: '${LP2}': initializing unpatching transition
${LP2}: pre_unpatch_callback: vmlinux
livepatch: '${LP2}': starting unpatching transition
livepatch: '${LP2}': completing unpatching transition
${LP2}: post_unpatch_callback: vmlinux
livepatch: '${LP2}': unpatching complete
% rmmod ${LP2}
% rmmod ${LP}`),
  );
});
