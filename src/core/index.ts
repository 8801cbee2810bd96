/*
 * index.ts — the core's public surface. Everything the runtime, the control
 * socket and the tests need comes from here; nothing else in src/core is
 * meant to be imported from outside.
 */

export { Livepatch } from './livepatch.ts';
export { KlpError, isKlpError } from './errors.ts';
export * from './errno.ts';
export { KLP_TRANSITION_IDLE, KLP_TRANSITION_PATCHED, KLP_TRANSITION_UNPATCHED, PatchState } from './types.ts';
export type {
  BlockingFrame,
  CallbackObject,
  Callbacks,
  Clock,
  Consistency,
  Frame,
  Func,
  FuncDef,
  FuncInfo,
  KlpEvent,
  KlpState,
  LivepatchOptions,
  LogRecord,
  ModuleHandle,
  ModuleLookup,
  ModuleState,
  ObjectDef,
  ObjectInfo,
  PatchDef,
  PatchInfo,
  PendingTask,
  Ports,
  Slot,
  SlotSink,
  StateDef,
  SymbolEntry,
  SymbolTable,
  Task,
  TaskSource,
  Timer,
  TransitionStatus,
} from './types.ts';
export { dispatch, dispatchVersion } from './patch.ts';
export { KernelLog, formatRecord, type Listener } from './log.ts';
export { Sysfs, SYSFS_ROOT, kstrtobool } from './sysfs.ts';
export { Shadow, type ShadowCtor, type ShadowData, type ShadowDtor, type ShadowId } from './shadow.ts';
export { encodeName, funcDirName, objectDirName } from './sysfs-names.ts';
export { RETRY_MS, SIGNALS_TIMEOUT } from './transition.ts';
export { KERN_DEBUG, KERN_ERR, KERN_INFO, KERN_NOTICE, KERN_WARNING, PREFIX as LOG_PREFIX } from './messages.ts';
