// Scenarios of tools/testing/selftests/livepatch/test-state.sh (R14), with
// the selftests' modules test_klp_state{,2,3} rebuilt on the JS API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../support/sim.ts';
import type { CallbackObject, PatchDef } from '../../src/core/index.ts';

const S1 = 'test_klp_state';
const S2 = 'test_klp_state2';
const S3 = 'test_klp_state3';
const CONSOLE_LOGLEVEL_STATE = 1;
const MOTORMOUTH = 15;

interface Console {
  loglevel: number;
}

/** test_klp_state.c (version 1, no migration) or test_klp_state2.c/3.c (version 2, migration). */
function statePatch(w: SimWorld, con: Console, name: string, version: 1 | 2): PatchDef {
  const lp = w.lp;
  const info = (msg: string) => lp.printk(`${name}: ${msg}`, 6);
  const cb = (fn: string, obj: CallbackObject) => info(`${fn}: ${obj.name ?? 'vmlinux'}`);
  const allocate = (): number => {
    if (version === 2 && lp.getPrevState(CONSOLE_LOGLEVEL_STATE) !== null) {
      info('allocate_loglevel_state: space to store console_loglevel already allocated');
      return 0;
    }
    const state = lp.getState(name, CONSOLE_LOGLEVEL_STATE);
    if (state === null) return -22;
    state.data = { saved: 0 };
    info('allocate_loglevel_state: allocating space to store console_loglevel');
    return 0;
  };
  const fix = (): void => {
    const state = lp.getState(name, CONSOLE_LOGLEVEL_STATE)!;
    const prev = version === 2 ? lp.getPrevState(CONSOLE_LOGLEVEL_STATE) : null;
    if (prev !== null) {
      info('fix_console_loglevel: taking over the console_loglevel change');
      state.data = prev.data;
      return;
    }
    info('fix_console_loglevel: fixing console_loglevel');
    (state.data as { saved: number }).saved = con.loglevel;
    con.loglevel = MOTORMOUTH;
  };
  const restore = (): void => {
    const state = lp.getState(name, CONSOLE_LOGLEVEL_STATE)!;
    info('restore_console_loglevel: restoring console_loglevel');
    con.loglevel = (state.data as { saved: number }).saved;
  };
  const free = (): void => {
    const state = lp.getState(name, CONSOLE_LOGLEVEL_STATE)!;
    info('free_loglevel_state: freeing space for the stored console_loglevel');
    state.data = null;
  };
  return {
    name,
    replace: true,
    states: [{ id: CONSOLE_LOGLEVEL_STATE, version }],
    objects: [
      {
        name: null,
        funcs: [],
        callbacks: {
          prePatch(obj) {
            cb('pre_patch_callback', obj);
            return allocate();
          },
          postPatch(obj) {
            cb('post_patch_callback', obj);
            fix();
          },
          preUnpatch(obj) {
            cb('pre_unpatch_callback', obj);
            restore();
          },
          postUnpatch(obj) {
            cb('post_unpatch_callback', obj);
            free();
          },
        },
      },
    ],
  };
}

const lines = (s: string) => s.split('\n');

test('selftest test-state: system state modification (R14.2)', () => {
  const w = new SimWorld({ debug: true });
  const con = { loglevel: 4 };
  w.loadPatch(statePatch(w, con, S1, 1));
  assert.equal(con.loglevel, MOTORMOUTH);
  w.disablePatch(S1);
  w.unloadPatch(S1);
  assert.equal(con.loglevel, 4);
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${S1}
livepatch: enabling patch '${S1}'
livepatch: '${S1}': initializing patching transition
${S1}: pre_patch_callback: vmlinux
${S1}: allocate_loglevel_state: allocating space to store console_loglevel
livepatch: '${S1}': starting patching transition
livepatch: '${S1}': completing patching transition
${S1}: post_patch_callback: vmlinux
${S1}: fix_console_loglevel: fixing console_loglevel
livepatch: '${S1}': patching complete
% echo 0 > /sys/kernel/livepatch/${S1}/enabled
livepatch: '${S1}': initializing unpatching transition
${S1}: pre_unpatch_callback: vmlinux
${S1}: restore_console_loglevel: restoring console_loglevel
livepatch: '${S1}': starting unpatching transition
livepatch: '${S1}': completing unpatching transition
${S1}: post_unpatch_callback: vmlinux
${S1}: free_loglevel_state: freeing space for the stored console_loglevel
livepatch: '${S1}': unpatching complete
% rmmod ${S1}`),
  );
});

test('selftest test-state: taking over system state modification (R14.3)', () => {
  const w = new SimWorld({ debug: true });
  const con = { loglevel: 4 };
  w.loadPatch(statePatch(w, con, S1, 1));
  w.loadPatch(statePatch(w, con, S2, 2));
  w.unloadPatch(S1);
  w.disablePatch(S2);
  w.unloadPatch(S2);
  assert.equal(con.loglevel, 4);
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${S1}
livepatch: enabling patch '${S1}'
livepatch: '${S1}': initializing patching transition
${S1}: pre_patch_callback: vmlinux
${S1}: allocate_loglevel_state: allocating space to store console_loglevel
livepatch: '${S1}': starting patching transition
livepatch: '${S1}': completing patching transition
${S1}: post_patch_callback: vmlinux
${S1}: fix_console_loglevel: fixing console_loglevel
livepatch: '${S1}': patching complete
% modprobe ${S2}
livepatch: enabling patch '${S2}'
livepatch: '${S2}': initializing patching transition
${S2}: pre_patch_callback: vmlinux
${S2}: allocate_loglevel_state: space to store console_loglevel already allocated
livepatch: '${S2}': starting patching transition
livepatch: '${S2}': completing patching transition
${S2}: post_patch_callback: vmlinux
${S2}: fix_console_loglevel: taking over the console_loglevel change
livepatch: '${S2}': patching complete
% rmmod ${S1}
% echo 0 > /sys/kernel/livepatch/${S2}/enabled
livepatch: '${S2}': initializing unpatching transition
${S2}: pre_unpatch_callback: vmlinux
${S2}: restore_console_loglevel: restoring console_loglevel
livepatch: '${S2}': starting unpatching transition
livepatch: '${S2}': completing unpatching transition
${S2}: post_unpatch_callback: vmlinux
${S2}: free_loglevel_state: freeing space for the stored console_loglevel
livepatch: '${S2}': unpatching complete
% rmmod ${S2}`),
  );
});

test('selftest test-state: compatible cumulative livepatches (R14.4)', () => {
  const w = new SimWorld({ debug: true });
  const con = { loglevel: 4 };
  w.loadPatch(statePatch(w, con, S2, 2));
  w.loadPatch(statePatch(w, con, S3, 2));
  w.unloadPatch(S2);
  w.loadPatch(statePatch(w, con, S2, 2));
  w.disablePatch(S2);
  w.unloadPatch(S2);
  w.unloadPatch(S3);
  assert.equal(con.loglevel, 4);
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${S2}
livepatch: enabling patch '${S2}'
livepatch: '${S2}': initializing patching transition
${S2}: pre_patch_callback: vmlinux
${S2}: allocate_loglevel_state: allocating space to store console_loglevel
livepatch: '${S2}': starting patching transition
livepatch: '${S2}': completing patching transition
${S2}: post_patch_callback: vmlinux
${S2}: fix_console_loglevel: fixing console_loglevel
livepatch: '${S2}': patching complete
% modprobe ${S3}
livepatch: enabling patch '${S3}'
livepatch: '${S3}': initializing patching transition
${S3}: pre_patch_callback: vmlinux
${S3}: allocate_loglevel_state: space to store console_loglevel already allocated
livepatch: '${S3}': starting patching transition
livepatch: '${S3}': completing patching transition
${S3}: post_patch_callback: vmlinux
${S3}: fix_console_loglevel: taking over the console_loglevel change
livepatch: '${S3}': patching complete
% rmmod ${S2}
% modprobe ${S2}
livepatch: enabling patch '${S2}'
livepatch: '${S2}': initializing patching transition
${S2}: pre_patch_callback: vmlinux
${S2}: allocate_loglevel_state: space to store console_loglevel already allocated
livepatch: '${S2}': starting patching transition
livepatch: '${S2}': completing patching transition
${S2}: post_patch_callback: vmlinux
${S2}: fix_console_loglevel: taking over the console_loglevel change
livepatch: '${S2}': patching complete
% echo 0 > /sys/kernel/livepatch/${S2}/enabled
livepatch: '${S2}': initializing unpatching transition
${S2}: pre_unpatch_callback: vmlinux
${S2}: restore_console_loglevel: restoring console_loglevel
livepatch: '${S2}': starting unpatching transition
livepatch: '${S2}': completing unpatching transition
${S2}: post_unpatch_callback: vmlinux
${S2}: free_loglevel_state: freeing space for the stored console_loglevel
livepatch: '${S2}': unpatching complete
% rmmod ${S2}
% rmmod ${S3}`),
  );
});

test('selftest test-state: incompatible cumulative livepatches (R14.4, R2.1 step 7)', () => {
  const w = new SimWorld({ debug: true });
  const con = { loglevel: 4 };
  w.loadPatch(statePatch(w, con, S2, 2));
  assert.throws(() => w.loadPatch(statePatch(w, con, S1, 1)), {
    errno: -22,
    code: 'EINVAL',
    message: /not compatible/,
  });
  w.disablePatch(S2);
  w.unloadPatch(S2);
  assert.deepEqual(
    w.lines(),
    lines(`% modprobe ${S2}
livepatch: enabling patch '${S2}'
livepatch: '${S2}': initializing patching transition
${S2}: pre_patch_callback: vmlinux
${S2}: allocate_loglevel_state: allocating space to store console_loglevel
livepatch: '${S2}': starting patching transition
livepatch: '${S2}': completing patching transition
${S2}: post_patch_callback: vmlinux
${S2}: fix_console_loglevel: fixing console_loglevel
livepatch: '${S2}': patching complete
% modprobe ${S1}
livepatch: Livepatch patch (${S1}) is not compatible with the already installed livepatches.
modprobe: ERROR: could not insert '${S1}': Invalid argument
% echo 0 > /sys/kernel/livepatch/${S2}/enabled
livepatch: '${S2}': initializing unpatching transition
${S2}: pre_unpatch_callback: vmlinux
${S2}: restore_console_loglevel: restoring console_loglevel
livepatch: '${S2}': starting unpatching transition
livepatch: '${S2}': completing unpatching transition
${S2}: post_unpatch_callback: vmlinux
${S2}: free_loglevel_state: freeing space for the stored console_loglevel
livepatch: '${S2}': unpatching complete
% rmmod ${S2}`),
  );
});
