// Reading the files named on the command line, with errors that name the flag and the file.
import { readFileSync } from 'node:fs';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
};

/** "FILE: reason" for a file-system error (node's own message names the system call, not the problem). */
export function fileErrorMessage(err: Error & { code?: string; path?: string }): string | undefined {
  if (!err.code || err.path === undefined) return undefined;
  return `${err.path}: ${REASONS[err.code] ?? err.message}`;
}

/** The text of `path` ("-": standard input) given with `flag`. */
export function readText(path: string, flag: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    const msg = fileErrorMessage(e as Error);
    throw msg ? new Error(`${flag} ${msg}`) : e;
  }
}
