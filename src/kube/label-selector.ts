// Kubernetes LabelSelector matching (matchLabels and matchExpressions with In, NotIn, Exists, DoesNotExist).
import type { LabelSelector } from '../types.js';

export class SelectorError extends Error {}

/** True when the selector selects nothing in particular (Kubernetes' selector.Empty()). */
export function selectorIsEmpty(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

export function selectorMatches(s: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (values.length === 0) throw new SelectorError(`values: must be specified when operator is In`);
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0) throw new SelectorError(`values: must be specified when operator is NotIn`);
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new SelectorError(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return true;
}
