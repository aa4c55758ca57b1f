// Where `meshd serve` writes the roots that verify its serving certificate (for a webhook's caBundle):
// one path for the process's life, so a re-issued certificate's roots replace the file a user was
// told about, written through a new file and a rename so that a symlink planted at the path (say in
// /tmp) is replaced rather than followed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CaFile {
  path: string;
  write(pem: string): void;
  /** Removes the temporary directory meshd chose itself; a path the user gave (--ca-out) stays. */
  remove(): void;
}

export function caFile(path: string | undefined): CaFile {
  const own = path === undefined ? mkdtempSync(join(tmpdir(), 'meshd-')) : undefined;
  const target = path ?? join(own!, 'ca.pem');
  return {
    path: target,
    remove: () => {
      if (own) rmSync(own, { recursive: true, force: true });
    },
    write: (pem) => {
      const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      // 'wx' fails rather than open anything already there, a link included.
      writeFileSync(temp, pem, { flag: 'wx', mode: 0o644 });
      try {
        renameSync(temp, target);
      } catch (err) {
        rmSync(temp, { force: true });
        throw err;
      }
    },
  };
}
