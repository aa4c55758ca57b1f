// Entry of an admission worker thread: loads meshd's TypeScript sources through tsx (worker threads do not
// inherit the main thread's loader), then the worker proper.
import { tsImport } from 'tsx/esm/api';

await tsImport('./admission-worker.ts', import.meta.url);
