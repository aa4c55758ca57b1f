// YAML as sigs.k8s.io/yaml.Marshal writes it (Go's toYaml in templates): keys sorted, block style,
// list items at the parent key's indentation, a trailing newline.
import { stringify } from 'yaml';

export function goYaml(value: unknown): string {
  return stringify(value ?? null, {
    version: '1.1',
    sortMapEntries: true,
    indentSeq: false,
    lineWidth: 0,
    aliasDuplicateObjects: false,
    defaultStringType: 'PLAIN',
    defaultKeyType: 'PLAIN',
  });
}
