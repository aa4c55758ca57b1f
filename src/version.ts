// meshd's version, from its package.json (reported where istiod reports its build version).
import { readFileSync } from 'node:fs';

export const MESHD_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
