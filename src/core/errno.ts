export const EINVAL = -22;
