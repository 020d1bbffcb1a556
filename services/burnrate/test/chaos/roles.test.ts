import { chaosSuite } from './chaos-suite.js';

// Role processes SIGKILLed one by one and all at once, and frozen zombies (docs/reliability.md).
chaosSuite(['role-kill', 'all-killed', 'zombie'], 20);
