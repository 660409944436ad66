/**
 * Internal, for the fault tests only (not exported from the package): make the atomic writer fail as a
 * full or read-only disk would, without root or a tmpfs. Set `CLEAVE_FAULT_INJECT` to
 * `<CODE>:<pattern>` — every write whose destination path contains `pattern` (`*`: every write) writes
 * half its bytes to the temporary file, then fails with a Node errno error of that code (`ENOSPC`,
 * `EDQUOT`, `EIO`, `EROFS`, `EACCES`). Unset (the normal case), nothing changes.
 *
 * @example
 * ```bash
 * CLEAVE_FAULT_INJECT='ENOSPC:report.json' cleave train --data myntra-fashionclip-99 --out runs/x
 * ```
 */

const CODES = ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES'] as const;

/** The injected failure for writing `path`, if `CLEAVE_FAULT_INJECT` asks for one (see the module documentation). */
export function injectedWriteFault(path: string): NodeJS.ErrnoException | undefined {
  const spec = process.env.CLEAVE_FAULT_INJECT;
  if (!spec) return undefined;
  const colon = spec.indexOf(':');
  const code = colon > 0 ? spec.slice(0, colon) : spec;
  const pattern = colon > 0 ? spec.slice(colon + 1) : '*';
  if (!(CODES as readonly string[]).includes(code)) return undefined;
  if (pattern !== '*' && !path.includes(pattern)) return undefined;
  const error = new Error(`${code}: injected write failure, write '${path}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = 'write';
  error.path = path;
  return error;
}
