/** Production entry point: the Temporal worker alone (scale it horizontally). */
import { runProcess } from './process';
import { startEasel } from './runtime';

runProcess('worker', (env, logger) => startEasel({ env, role: 'worker', logger }));
