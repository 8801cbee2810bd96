export { EINVAL } from './core/errno.ts';
