/** Production entry point: the HTTP API alone (scale it horizontally). */
import { runProcess } from './process';
import { startEasel } from './runtime';

runProcess('api', (env, logger) => startEasel({ env, role: 'api', logger }));
