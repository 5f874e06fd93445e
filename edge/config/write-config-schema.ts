/**
 * Writes config/schema.json from the TypeBox config schema: `npm run schema:config` after changing
 * edge/config/config-schema.ts (tests/unit/config/config-schema.test.ts fails until the file is regenerated).
 */
import { writeFile } from 'node:fs/promises';
import { configSchemaJson } from './config-schema-json.js';
import { configPath } from './load-config.js';

const path = configPath('schema.json');
await writeFile(path, configSchemaJson());
console.log(`wrote ${path}`);
