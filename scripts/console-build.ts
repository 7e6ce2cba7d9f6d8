// `npm run console:build`: builds the operator console if its bundle is missing or older than
// its sources. Nobody has to: `npm start` and the test setup do the same by themselves.
import { ensureConsoleBuilt } from './lib/console-build';

const outcome = ensureConsoleBuilt((line) => process.stdout.write(`${line}\n`));
if (outcome === 'fresh') process.stdout.write('the console is up to date\n');
