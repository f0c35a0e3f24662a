// The page's Content-Security-Policy has no 'unsafe-eval'. zod compiles fast parsers with
// `new Function` when it can, and finding out that it cannot logs a CSP violation in the console
// on the first parse; jitless mode skips the probe. Imported first by connection.ts.
import { config } from 'zod';

config({ jitless: true });
