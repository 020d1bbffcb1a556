// Entry of the decoding thread: worker threads do not inherit the main thread's module hooks, so
// this plain-JavaScript entry registers tsx before it loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./decoder-worker.ts');
