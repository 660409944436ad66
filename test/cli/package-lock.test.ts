/**
 * `npm install` must leave the tracked package-lock.json as it is: its root entry mirrors what npm
 * derives from package.json (the dependency lists, and `hasInstallScript` when package.json has an
 * install-time script — npm adds that flag on every install when the lock lacks it).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const read = (f: string) => JSON.parse(readFileSync(join(root, f), 'utf8'));

describe('package-lock.json', () => {
  it('root entry agrees with package.json, so npm install does not rewrite it', () => {
    const pkg = read('package.json');
    const lock = read('package-lock.json');
    const entry = lock.packages[''];
    expect([lock.name, lock.version, entry.name, entry.version]).toEqual([
      pkg.name,
      pkg.version,
      pkg.name,
      pkg.version,
    ]);
    const installScript = ['preinstall', 'install', 'postinstall'].some((s) => pkg.scripts?.[s]);
    expect(entry.hasInstallScript ?? false).toBe(installScript);
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      expect(entry[field], field).toEqual(pkg[field]);
    }
  });
});
