import { Logger } from '@nestjs/common';
import { createDemoApp } from './create-demo-app';
import { loadDemoConfig } from './demo.config';

async function main(): Promise<void> {
  const config = loadDemoConfig(process.env);
  const app = await createDemoApp();
  await app.listen(config.port, '0.0.0.0');
  Logger.log(`demo listening on http://127.0.0.1:${config.port} (${config.httpAdapter}, store: ${config.cacheStore})`, 'Demo');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
