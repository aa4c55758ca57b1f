// Score floors, a ratchet: each conformance part's headline scores ("N/M ...") are compared with the floor
// recorded in floors.json. A lower score fails the run; a higher one raises the floor in the file (outside
// CI, so the raise is committed with the change that earned it); other inputs (a different M) must be
// recorded on purpose, with MESHD_UPDATE_FLOORS=1.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = join(import.meta.dirname, 'floors.json');

interface Floor {
  floor: number;
  of: number;
}

/** Headline scores of a part's output lines: unindented `N/M text (details)`, keyed by the text. */
export function headlineScores(lines: string[]): Array<{ key: string; n: number; m: number }> {
  return lines.flatMap((l) => {
    const m = /^(\d+)\/(\d+) ([^(]+?)(?: \(.*\))?$/.exec(l);
    return m ? [{ key: m[3]!.trim(), n: Number(m[1]), m: Number(m[2]) }] : [];
  });
}

/** Checks (and outside CI raises) the floors of `part`; returns the problems, empty when none. */
export function ratchet(part: string, lines: string[], env: NodeJS.ProcessEnv = process.env, file = FILE): string[] {
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, Floor>>;
  const floors = (all[part] ??= {});
  const problems: string[] = [];
  const record = env.MESHD_UPDATE_FLOORS === '1';
  let changed = false;
  for (const s of headlineScores(lines)) {
    const f = floors[s.key];
    if (!f || record || (f.of === s.m && s.n > f.floor && !env.CI)) {
      if (!f && !record) problems.push(`${part}: no floor recorded for "${s.key}" (record it with MESHD_UPDATE_FLOORS=1)`);
      else {
        floors[s.key] = { floor: s.n, of: s.m };
        changed = true;
        console.log(`floor of "${s.key}" set to ${s.n}/${s.m}`);
      }
      continue;
    }
    if (f.of !== s.m) problems.push(`${part}: "${s.key}" now counts ${s.m} inputs, the floor ${f.of}; record the new inputs with MESHD_UPDATE_FLOORS=1`);
    else if (s.n < f.floor) problems.push(`${part}: "${s.key}" fell to ${s.n}/${s.m}, below its floor ${f.floor}`);
    else if (s.n > f.floor) console.log(`"${s.key}" rose to ${s.n}/${s.m} above its floor ${f.floor}: commit the raised floor (run outside CI)`);
  }
  if (changed && !env.CI) writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  return problems;
}
